/**
 * Ingestion's projection of the state: what every accepted entry, proven or not, will make
 * of it, kept so that a record the batch circuit would refuse is refused before its receipt is
 * signed (every receipt must stay provable, invariant 7). Per (agent, organisation) it keeps
 * the next epoch the organisation may report, which gives one record per (agent,
 * organisation, epoch) with strictly increasing epochs (invariant 9); per agent, whether it
 * exists, which decides whether its next record is an insert or an update of a batch.
 *
 * Memory: one map entry per (agent, organisation) pair that has a record. Pure: no I/O.
 * @module
 */
import { ZkTrustError } from '../errors.ts';

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
  // agent -> orgIndex -> next epoch the organisation may report.
  private readonly next = new Map<bigint, Map<number, bigint>>();
  /** Accepted entries not yet proven that are the first record of their agent. */
  pendingInserts = 0;

  /** Number of agents with at least one accepted record. */
  get agents(): number {
    return this.next.size;
  }

  /** Whether the agent has an accepted record. */
  has(agent: bigint): boolean {
    return this.next.has(agent);
  }

  /** The next epoch the organisation at orgIndex may report on the agent (0 if it never did). */
  nextEpoch(agent: bigint, orgIndex: number): bigint {
    return this.next.get(agent)?.get(orgIndex) ?? 0n;
  }

  /** Seeds the projection from a proven state's slots (recovery). */
  seed(agent: bigint, orgIndex: number, nextEpoch: bigint): void {
    let m = this.next.get(agent);
    if (!m) this.next.set(agent, (m = new Map()));
    if (nextEpoch > (m.get(orgIndex) ?? 0n)) m.set(orgIndex, nextEpoch);
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
      if (!this.next.has(r.agent) && !seen.has(r.agent)) inserts++;
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
      let m = this.next.get(r.agent);
      if (!m) {
        this.next.set(r.agent, (m = new Map()));
        undo.newAgents.push(r.agent);
        undo.inserts++;
      }
      undo.previous.push([r.agent, r.orgIndex, m.get(r.orgIndex)]);
      m.set(r.orgIndex, r.epoch + 1n);
    }
    this.pendingInserts += undo.inserts;
    return undo;
  }

  /** Takes back what add did (in reverse order). */
  undo(u: ProjectionUndo): void {
    for (let i = u.previous.length - 1; i >= 0; i--) {
      const [agent, orgIndex, prev] = u.previous[i]!;
      const m = this.next.get(agent);
      if (!m) continue;
      if (prev === undefined) m.delete(orgIndex);
      else m.set(orgIndex, prev);
    }
    for (const a of u.newAgents) this.next.delete(a);
    this.pendingInserts -= u.inserts;
  }
}
