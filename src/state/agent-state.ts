/**
 * The agent state and its transitions, the TypeScript twin of circuits/lib/apply-insert.circom
 * and circuits/lib/apply-update.circom: an indexed (sorted linked-list) quaternary Merkle tree
 * with one leaf per agent, each leaf holding the agent's capped evidence and the root's
 * children of its organisation set, whose slot orgIndex holds that organisation's packed
 * totals for the agent (policy v2). Applying a record returns exactly the witness of its
 * slot. Pure: no I/O.
 * @module
 */
import { agentLeafHash, EMPTY_SUMMARY, packSummary, type AgentLeaf, type AgentSummary } from '../crypto/agent-leaf.ts';
import { GENESIS_CHAIN } from '../crypto/chain.ts';
import { assertRecord, type OutcomeRecord } from '../crypto/commitment.ts';
import { EMPTY_ORG_SLOT, packOrgSlot, unpackOrgSlot, type OrgSlot } from '../crypto/org-slot.ts';
import { QuadTree, type QuadPath } from '../crypto/quad-tree.ts';
import { cappedContribution, POLICY_V2, weightedTrials, type ScorePolicyV2 } from '../crypto/score-policy.ts';
import { decodeSnapshot, encodeSnapshot, type StoredLeaf } from './snapshot.ts';

export interface StateShape {
  agentDepth: number;
  orgDepth: number;
}

/** A log entry's content as the batch circuit consumes it. */
export interface AppliedEntry {
  record: OutcomeRecord;
  orgIndex: number;
}

/** The record opening and registry position every slot takes. */
interface RecordWitness {
  agent: bigint;
  org: bigint;
  orgIndex: bigint;
  epoch: bigint;
  kept: bigint;
  broken: bigint;
  violations: bigint;
  scope: bigint;
  salt: bigint;
}

/** The private inputs of one ApplyInsert slot (names match the circuit's signals). */
export interface InsertWitness extends RecordWitness {
  lowAgent: bigint;
  lowNextAgent: bigint;
  lowSummary: bigint;
  lowExt: bigint;
  lowOrgs: bigint[];
  lowIndex: bigint;
  lowSiblings: QuadPath;
  newIndex: bigint;
  newSiblings: QuadPath;
}

/** The private inputs of one ApplyUpdate slot (names match the circuit's signals). */
export interface UpdateWitness extends RecordWitness {
  nextAgent: bigint;
  summary: bigint;
  ext: bigint;
  index: bigint;
  siblings: QuadPath;
  orgOld: bigint;
  orgSiblings: QuadPath;
}

const RECORD_FIELDS = ['agent', 'org', 'orgIndex', 'epoch', 'kept', 'broken', 'violations', 'scope', 'salt'] as const;
export const INSERT_FIELDS = [
  ...RECORD_FIELDS, 'lowAgent', 'lowNextAgent', 'lowSummary', 'lowExt', 'lowOrgs', 'lowIndex', 'lowSiblings', 'newIndex', 'newSiblings',
] as const satisfies readonly (keyof InsertWitness)[];
export const UPDATE_FIELDS = [
  ...RECORD_FIELDS, 'nextAgent', 'summary', 'ext', 'index', 'siblings', 'orgOld', 'orgSiblings',
] as const satisfies readonly (keyof UpdateWitness)[];

/** What applying one entry did, and the witness of its slot. */
export type SlotResult = { kind: 'insert'; witness: InsertWitness } | { kind: 'update'; witness: UpdateWitness };

function zeroPath(depth: number): QuadPath {
  return Array.from({ length: depth }, () => [0n, 0n, 0n]);
}

const ZERO_RECORD: RecordWitness = { agent: 0n, org: 0n, orgIndex: 0n, epoch: 0n, kept: 0n, broken: 0n, violations: 0n, scope: 0n, salt: 0n };

/** The witness of an unused insert slot: all zeros, which the circuit lets through unchanged. */
export function paddingInsert(shape: StateShape): InsertWitness {
  return {
    ...ZERO_RECORD, lowAgent: 0n, lowNextAgent: 0n, lowSummary: 0n, lowExt: 0n, lowOrgs: [0n, 0n, 0n, 0n], lowIndex: 0n,
    lowSiblings: zeroPath(shape.agentDepth), newIndex: 0n, newSiblings: zeroPath(shape.agentDepth),
  };
}

/** The witness of an unused update slot: all zeros. */
export function paddingUpdate(shape: StateShape): UpdateWitness {
  return {
    ...ZERO_RECORD, nextAgent: 0n, summary: 0n, ext: 0n, index: 0n, siblings: zeroPath(shape.agentDepth), orgOld: 0n,
    orgSiblings: zeroPath(shape.orgDepth),
  };
}

/** The sentinel leaf at position 0 from genesis on: key 0, no evidence, an empty organisation set. */
export function sentinelLeaf(orgDepth: number): AgentLeaf {
  return { agent: 0n, nextAgent: 0n, summary: { ...EMPTY_SUMMARY }, ext: 0n, orgs: new QuadTree(orgDepth).topChildren() };
}

/** The root of the state before any record: only the sentinel leaf. */
export function genesisRoot(shape: StateShape): bigint {
  const t = new QuadTree(shape.agentDepth);
  t.set(0, agentLeafHash(sentinelLeaf(shape.orgDepth)));
  return t.root;
}

export class AgentState {
  readonly shape: StateShape;
  readonly policy: Readonly<ScorePolicyV2>;
  private tree: QuadTree;
  private leaves: StoredLeaf[] = [];
  private orgSets: QuadTree[] = [];
  private indexOf = new Map<bigint, number>();
  // Agents in increasing order, for finding the low leaf of a new agent.
  private sorted: bigint[] = [];
  /** The log hash chain after the last entry of the last batch (src/state/batch.ts). */
  chain: bigint = GENESIS_CHAIN;
  /** Number of log entries applied by batches. */
  applied = 0;

  /** @throws RangeError if a depth is out of range. */
  constructor(shape: StateShape, policy: Readonly<ScorePolicyV2> = POLICY_V2) {
    this.shape = { ...shape };
    this.policy = policy;
    this.tree = new QuadTree(shape.agentDepth);
    if (!Number.isInteger(shape.orgDepth) || shape.orgDepth < 1 || shape.orgDepth > 7) throw new RangeError('orgDepth must be in [1, 7]');
    this.addLeaf({ agent: 0n, nextAgent: 0n, summary: { ...EMPTY_SUMMARY }, ext: 0n }, new QuadTree(shape.orgDepth));
  }

  get root(): bigint {
    return this.tree.root;
  }

  private internals(): { tree: QuadTree; leaves: StoredLeaf[]; orgSets: QuadTree[]; indexOf: Map<bigint, number>; sorted: bigint[] } {
    return this as unknown as { tree: QuadTree; leaves: StoredLeaf[]; orgSets: QuadTree[]; indexOf: Map<bigint, number>; sorted: bigint[] };
  }

  /** An independent copy of the state (no hashing): cheaper than replaying the log. */
  clone(): AgentState {
    const c = new AgentState(this.shape, this.policy);
    const self = c.internals();
    self.tree = this.tree.clone();
    self.leaves = this.leaves.map((l) => ({ ...l, summary: { ...l.summary } }));
    self.orgSets = this.orgSets.map((t) => t.clone());
    self.indexOf = new Map(this.indexOf);
    self.sorted = [...this.sorted];
    c.chain = this.chain;
    c.applied = this.applied;
    return c;
  }

  /** A binary snapshot of the whole state (src/state/snapshot.ts). */
  toSnapshot(): Uint8Array {
    return encodeSnapshot({
      agentDepth: this.shape.agentDepth, orgDepth: this.shape.orgDepth, chain: this.chain, applied: this.applied,
      leaves: this.leaves, orgNodes: this.orgSets.map((t) => t.storedNodes()), treeNodes: this.tree.storedNodes(),
    });
  }

  /**
   * The state a snapshot holds, restored without hashing. Check its root and chain against
   * the checkpoint it belongs to before trusting it.
   * @throws RangeError for a malformed or corrupted snapshot, or one of another shape.
   */
  static fromSnapshot(shape: StateShape, bytes: Uint8Array, policy: Readonly<ScorePolicyV2> = POLICY_V2): AgentState {
    const p = decodeSnapshot(bytes);
    if (p.agentDepth !== shape.agentDepth || p.orgDepth !== shape.orgDepth) throw new RangeError('snapshot is of another state shape');
    const s = new AgentState(shape, policy);
    const self = s.internals();
    self.tree = QuadTree.fromStoredNodes(shape.agentDepth, p.treeNodes);
    self.leaves = p.leaves;
    self.orgSets = p.orgNodes.map((n) => QuadTree.fromStoredNodes(shape.orgDepth, n));
    self.indexOf = new Map(p.leaves.map((l, i) => [l.agent, i]));
    if (self.indexOf.size !== p.leaves.length) throw new RangeError('snapshot holds an agent twice');
    self.sorted = p.leaves.slice(1).map((l) => l.agent).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    s.chain = p.chain;
    s.applied = p.applied;
    return s;
  }

  /** Number of agents (the sentinel excluded). */
  get agentCount(): number {
    return this.leaves.length - 1;
  }

  /** Whether the agent has a leaf. */
  has(agent: bigint): boolean {
    return agent !== 0n && this.indexOf.has(agent);
  }

  /**
   * Every organisation slot in use, as (agent, orgIndex, nextEpoch): what ingestion needs to
   * refuse a record the batch circuit would refuse.
   */
  *orgEpochs(): Generator<{ agent: bigint; orgIndex: number; nextEpoch: bigint }> {
    for (let i = 1; i < this.leaves.length; i++) {
      for (const [orgIndex, slot] of this.orgSets[i]!.leaves()) {
        yield { agent: this.leaves[i]!.agent, orgIndex, nextEpoch: unpackOrgSlot(slot, this.policy).nextEpoch };
      }
    }
  }

  /** An organisation's slot for an agent (the empty slot if it never reported on it). */
  orgSlot(agent: bigint, orgIndex: number): OrgSlot {
    const index = this.indexOf.get(agent);
    if (index === undefined || agent === 0n) return { ...EMPTY_ORG_SLOT };
    return unpackOrgSlot(this.orgSets[index]!.get(orgIndex), this.policy);
  }

  private fullLeaf(index: number): AgentLeaf {
    const l = this.leaves[index]!;
    return { ...l, summary: { ...l.summary }, orgs: this.orgSets[index]!.topChildren() };
  }

  private addLeaf(leaf: StoredLeaf, orgs: QuadTree): number {
    const index = this.leaves.length;
    this.leaves.push(leaf);
    this.orgSets.push(orgs);
    this.indexOf.set(leaf.agent, index);
    this.tree.set(index, agentLeafHash(this.fullLeaf(index)));
    return index;
  }

  private write(index: number, leaf: StoredLeaf): void {
    this.leaves[index] = leaf;
    this.tree.set(index, agentLeafHash(this.fullLeaf(index)));
  }

  /** The leaf, position and path of an agent, or undefined if it has no leaf. */
  lookup(agent: bigint): { leaf: AgentLeaf; index: number; path: QuadPath } | undefined {
    const index = agent === 0n ? undefined : this.indexOf.get(agent);
    if (index === undefined) return undefined;
    return { leaf: this.fullLeaf(index), index, path: this.tree.path(index) };
  }

  /** A copy of the leaf at `index`. @throws RangeError if there is none. */
  leafAt(index: number): AgentLeaf {
    if (!this.leaves[index]) throw new RangeError(`no leaf at ${index}`);
    return this.fullLeaf(index);
  }

  /** The tree path of the leaf position `index` (which may be empty). */
  pathAt(index: number): QuadPath {
    return this.tree.path(index);
  }

  /** The organisation set of the agent at `index` (a copy). @throws RangeError if there is none. */
  orgSetAt(index: number): QuadTree {
    if (!this.orgSets[index]) throw new RangeError(`no leaf at ${index}`);
    return this.orgSets[index]!.clone();
  }

  /** Leaf hashes by position, sentinel first: enough to rebuild the tree. */
  leafHashes(): bigint[] {
    return this.leaves.map((_, i) => agentLeafHash(this.fullLeaf(i)));
  }

  /** The largest agent below `agent` (the sentinel 0 if none). */
  private lowOf(agent: bigint): bigint {
    const pos = this.sortedInsertPos(agent);
    return pos === 0 ? 0n : this.sorted[pos - 1]!;
  }

  /**
   * Checks that `entry` can be applied, as the circuit would (ranges, the record cap, the
   * organisation's epoch, maxEpoch, capacity), without changing anything.
   * @throws RangeError naming the problem.
   */
  check(entry: AppliedEntry, maxEpoch?: bigint): void {
    assertRecord(entry.record);
    const { orgIndex, record: r } = entry;
    if (!Number.isSafeInteger(orgIndex) || orgIndex < 0 || orgIndex >= 4 ** this.shape.orgDepth) {
      throw new RangeError(`orgIndex must be in [0, 4^${this.shape.orgDepth})`);
    }
    if (weightedTrials(r, this.policy) > this.policy.recordCap) throw new RangeError(`the record's weighted trials exceed the record cap ${this.policy.recordCap}`);
    if (maxEpoch !== undefined && r.epoch > maxEpoch) throw new RangeError(`epoch ${r.epoch} is after maxEpoch ${maxEpoch}`);
    if (!this.has(r.agent)) {
      if (this.leaves.length >= this.tree.capacity) throw new RangeError('the agent state tree is full');
      return;
    }
    const next = this.orgSlot(r.agent, orgIndex).nextEpoch;
    if (r.epoch < next) throw new RangeError(`epoch ${r.epoch} is not after the organisation's last epoch ${next - 1n} for this agent`);
  }

  /**
   * Applies one log entry and returns the witness of its slot: an insert for an agent without
   * a leaf, else an update. The log chain is the batch's (src/state/batch.ts).
   * @throws RangeError (see check) before changing anything.
   */
  apply(entry: AppliedEntry, maxEpoch?: bigint): SlotResult {
    this.check(entry, maxEpoch);
    const { record: r, orgIndex } = entry;
    const rec: RecordWitness = {
      agent: r.agent, org: r.org, orgIndex: BigInt(orgIndex), epoch: r.epoch, kept: r.kept, broken: r.broken,
      violations: r.violations, scope: r.scope, salt: r.salt,
    };
    const trials = weightedTrials(r, this.policy);
    const existing = this.indexOf.get(r.agent);
    if (existing !== undefined) {
      const leaf = this.leaves[existing]!;
      const orgs = this.orgSets[existing]!;
      const orgOld = orgs.get(orgIndex);
      const old = unpackOrgSlot(orgOld, this.policy);
      const slot = this.nextSlot(old, r.epoch, r.kept, trials);
      const witness: UpdateWitness = {
        ...rec, nextAgent: leaf.nextAgent, summary: packSummary(leaf.summary), ext: leaf.ext, index: BigInt(existing),
        siblings: this.tree.path(existing), orgOld, orgSiblings: orgs.path(orgIndex),
      };
      orgs.set(orgIndex, packOrgSlot(slot, this.policy));
      const summary: AgentSummary = {
        successes: leaf.summary.successes - old.cappedSuccesses + slot.cappedSuccesses,
        trials: leaf.summary.trials - old.cappedTrials + slot.cappedTrials,
        records: leaf.summary.records + (trials > 0n ? 1n : 0n),
        orgCount: leaf.summary.orgCount + (old.trials === 0n && trials > 0n ? 1n : 0n),
      };
      this.write(existing, { ...leaf, summary });
      return { kind: 'update', witness };
    }
    const lowIndex = this.indexOf.get(this.lowOf(r.agent))!;
    const low = this.fullLeaf(lowIndex);
    const lowFields = {
      lowAgent: low.agent, lowNextAgent: low.nextAgent, lowSummary: packSummary(low.summary), lowExt: low.ext, lowOrgs: [...low.orgs],
      lowIndex: BigInt(lowIndex), lowSiblings: this.tree.path(lowIndex),
    };
    const newIndex = this.leaves.length;
    const orgs = new QuadTree(this.shape.orgDepth);
    const slot = this.nextSlot(EMPTY_ORG_SLOT, r.epoch, r.kept, trials);
    orgs.set(orgIndex, packOrgSlot(slot, this.policy));
    // Re-link the low leaf first: the new slot's path is taken in the tree after the re-link.
    this.write(lowIndex, { ...this.leaves[lowIndex]!, nextAgent: r.agent });
    const newSiblings = this.tree.path(newIndex);
    const evidence = trials > 0n ? 1n : 0n;
    this.addLeaf(
      { agent: r.agent, nextAgent: low.nextAgent, summary: { successes: slot.cappedSuccesses, trials: slot.cappedTrials, records: evidence, orgCount: evidence }, ext: 0n },
      orgs,
    );
    this.sorted.splice(this.sortedInsertPos(r.agent), 0, r.agent);
    return { kind: 'insert', witness: { ...rec, ...lowFields, newIndex: BigInt(newIndex), newSiblings } };
  }

  // An organisation's slot after one more record (ApplyUpdate / ApplyInsert).
  private nextSlot(old: OrgSlot, epoch: bigint, kept: bigint, trials: bigint): OrgSlot {
    const successes = old.successes + kept;
    const total = old.trials + trials;
    const capped = cappedContribution({ successes, trials: total }, this.policy);
    return { nextEpoch: epoch + 1n, successes, trials: total, cappedSuccesses: capped.successes, cappedTrials: capped.trials };
  }

  /** The position of the first agent >= `agent` in the sorted list. */
  private sortedInsertPos(agent: bigint): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]! < agent) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
