/**
 * Ingestion's projection of the state: what every accepted entry, proven or not, will make
 * of it, kept so that a record the batch circuit would refuse is refused before its receipt is
 * signed (every receipt must stay provable, invariant 7). Per (agent, organisation) it keeps
 * the next epoch the organisation may report, which gives one record per (agent,
 * organisation, epoch) with strictly increasing epochs (invariant 9); per agent, whether it
 * exists, which decides whether its next record is an insert or an update of a batch.
 *
 * Memory: an agent takes 32 bytes and a hash-table slot (KeyTable), each (agent, organisation)
 * pair with a record 16 bytes in pooled lists (SlotLists): about 100 bytes an agent reported
 * on by three organisations, room to grow included, where a Map of Maps of bigints took 270
 * (measured at 300,000 agents; at a million, `npm run bench -- --config production --only
 * state --agents 1000000`). Pure: no I/O.
 * @module
 */
import { assertBits } from '../crypto/field.ts';
import { ZkTrustError } from '../errors.ts';
import { KeyTable } from '../state/key-table.ts';
import { SlotLists } from '../state/slot-lists.ts';

/** A record as the projection sees it. */
export interface ProjectedRecord {
  agent: bigint;
  orgIndex: number;
  epoch: bigint;
}

/** What accepting a group of records changed, to take it back if the write fails. */
export interface ProjectionUndo {
  previous: Array<[bigint, number, bigint | undefined]>;
  newAgents: bigint[];
  inserts: number;
}

export class Projection {
  // Every agent with an accepted record, numbered in the order it came in.
  private readonly agentIds = new KeyTable();
  // Per agent number: orgIndex -> the next epoch the organisation may report.
  private readonly next = new SlotLists(1);
  /** Accepted entries not yet proven that are the first record of their agent. */
  pendingInserts = 0;

  /** Number of agents with at least one accepted record. */
  get agents(): number {
    return this.agentIds.size;
  }

  /** Whether the agent has an accepted record. */
  has(agent: bigint): boolean {
    return this.agentIds.find(agent) >= 0;
  }

  /** The next epoch the organisation at orgIndex may report on the agent (0 if it never did). */
  nextEpoch(agent: bigint, orgIndex: number): bigint {
    const a = this.agentIds.find(agent);
    const e = a < 0 ? -1 : this.next.find(a, orgIndex);
    return e < 0 ? 0n : this.next.value(e);
  }

  // The number of `agent`, added if it has none.
  private idOf(agent: bigint): number {
    const a = this.agentIds.find(agent);
    if (a >= 0) return a;
    this.next.addOwner();
    return this.agentIds.add(agent);
  }

  // Sets the organisation's next epoch for agent number a. @returns the one before, if any.
  private put(a: number, orgIndex: number, nextEpoch: bigint): bigint | undefined {
    assertBits(nextEpoch, 64, 'nextEpoch');
    const e = this.next.find(a, orgIndex);
    if (e < 0) {
      this.next.add(a, orgIndex, nextEpoch);
      return undefined;
    }
    const before = this.next.value(e);
    this.next.setValue(e, nextEpoch);
    return before;
  }

  /** Seeds the projection from a proven state's slots (recovery). */
  seed(agent: bigint, orgIndex: number, nextEpoch: bigint): void {
    const a = this.idOf(agent);
    if (nextEpoch > this.nextEpoch(agent, orgIndex)) this.put(a, orgIndex, nextEpoch);
  }

  /**
   * Checks one submission's records in order, as if appended after every accepted entry:
   * each must be later than the organisation's last epoch for its agent, including the
   * submission's own earlier records.
   * @returns the number of records that would be first records of new agents.
   * @throws ZkTrustError duplicate_record (the epoch of the organisation's last record for the
   *   agent) or stale_epoch (an earlier epoch), naming the record.
   */
  check(records: readonly ProjectedRecord[]): { inserts: number } {
    const local = new Map<string, bigint>();
    const seen = new Set<bigint>();
    let inserts = 0;
    records.forEach((r, i) => {
      const key = `${r.agent}/${r.orgIndex}`;
      const next = local.get(key) ?? this.nextEpoch(r.agent, r.orgIndex);
      if (r.epoch < next) {
        if (r.epoch === next - 1n) throw new ZkTrustError('duplicate_record', `records[${i}]: this organisation already reported epoch ${r.epoch} for this agent`);
        throw new ZkTrustError('stale_epoch', `records[${i}]: epoch ${r.epoch} is not after this organisation's last epoch ${next - 1n} for this agent`);
      }
      local.set(key, r.epoch + 1n);
      if (!this.has(r.agent) && !seen.has(r.agent)) inserts++;
      seen.add(r.agent);
    });
    return { inserts };
  }

  /**
   * Accepts records that passed check (in log order).
   * @returns what to pass to undo if they are not stored after all.
   */
  add(records: readonly ProjectedRecord[]): ProjectionUndo {
    const undo: ProjectionUndo = { previous: [], newAgents: [], inserts: 0 };
    for (const r of records) {
      if (!this.has(r.agent)) {
        undo.newAgents.push(r.agent);
        undo.inserts++;
      }
      undo.previous.push([r.agent, r.orgIndex, this.put(this.idOf(r.agent), r.orgIndex, r.epoch + 1n)]);
    }
    this.pendingInserts += undo.inserts;
    return undo;
  }

  /**
   * Takes back what add did. Adds are taken back newest first, as the group commit does: `u`
   * must be the latest add not yet taken back.
   * @throws Error if it is not.
   */
  undo(u: ProjectionUndo): void {
    for (let i = u.previous.length - 1; i >= 0; i--) {
      const [agent, orgIndex, before] = u.previous[i]!;
      const a = this.agentIds.find(agent);
      if (before === undefined) this.next.removeLast(a);
      else this.put(a, orgIndex, before);
    }
    for (let i = u.newAgents.length - 1; i >= 0; i--) {
      if (this.agentIds.find(u.newAgents[i]!) !== this.agentIds.size - 1) throw new Error('only the latest add can be taken back');
      this.agentIds.removeLast();
      this.next.removeLastOwner();
    }
    this.pendingInserts -= u.inserts;
  }
}
