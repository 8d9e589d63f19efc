/**
 * The agent state and its transitions, the TypeScript twin of circuits/lib/apply-insert.circom
 * and circuits/lib/apply-update.circom: an indexed (sorted linked-list) quaternary Merkle tree
 * with one leaf per agent, each leaf holding the agent's capped evidence and the root's
 * children of its organisation set, whose slot orgIndex holds that organisation's packed
 * totals for the agent (policy v2). Applying a record returns exactly the witness of its
 * slot. Pure: no I/O.
 *
 * Layout: a million agents, each in two copies (the committed state and the sequencer's
 * working one), must fit in memory next to ingestion's projection, so the state is a few typed
 * arrays indexed by leaf position (an agent's position is the order it came in; the sentinel's
 * is 0), with no object per agent:
 *   agents     KeyTable: the agent of each position (32 B) and a hash table back (4-8 B)
 *   sorted     positions by increasing agent (4 B): the low leaf of a new agent by binary
 *              search, and each leaf's nextAgent (the next position in this order)
 *   summaries  the packed summary (24 B)
 *   tops       the four top children of the organisation set (128 B), which the leaf hashes
 *   orgs       SlotLists: the set's non-empty slots, about 40 B each; its inner nodes are
 *              hashed again from them when a slot changes (a few hashes: the set is tiny)
 *   tree       DenseQuadTree: the agent tree, a dense prefix per level (43 B)
 * ext is 0 in every leaf (docs/protocol.md) and not stored. With three organisations an agent
 * takes about 365 B (367 B of RSS for a state of a million agents restored from its snapshot),
 * where the bigints, Maps and one QuadTree per agent before took 1,620 B of heap (`npm run
 * bench -- --config production --only state --agents 1000000`); a copy is a memcpy per array,
 * a snapshot the arrays one after the other (snapshot.ts).
 * @module
 */
import { agentLeafHash, EMPTY_SUMMARY, packSummary, unpackSummary, type AgentLeaf, type AgentSummary } from '../crypto/agent-leaf.ts';
import { GENESIS_CHAIN } from '../crypto/chain.ts';
import { assertRecord, type OutcomeRecord } from '../crypto/commitment.ts';
import { DenseQuadTree } from '../crypto/dense-quad-tree.ts';
import { EMPTY_ORG_SLOT, packOrgSlot, slotNextEpoch, unpackOrgSlot, type OrgSlot } from '../crypto/org-slot.ts';
import { emptyRoot, QuadTree, quadRootFromPath, sparsePath, type QuadPath } from '../crypto/quad-tree.ts';
import { cappedContribution, POLICY_V2, weightedTrials, type ScorePolicyV2 } from '../crypto/score-policy.ts';
import { IndexArray, WordArray } from '../crypto/word-array.ts';
import { KeyTable } from './key-table.ts';
import { SlotLists } from './slot-lists.ts';
import { decodeSnapshot, encodeSnapshot, SUMMARY_WORDS } from './snapshot.ts';

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
  // The arrays of the module header, all indexed by leaf position.
  private tree: DenseQuadTree;
  private agents = new KeyTable();
  private sorted = new IndexArray();
  private summaries = new WordArray(SUMMARY_WORDS);
  // Elements 4p to 4p + 3: position p's top children.
  private tops = new WordArray(4);
  private orgs = new SlotLists(4);
  /** The log hash chain after the last entry of the last batch (src/state/batch.ts). */
  chain: bigint = GENESIS_CHAIN;
  /** Number of log entries applied by batches. */
  applied = 0;

  /** @throws RangeError if a depth is out of range. */
  constructor(shape: StateShape, policy: Readonly<ScorePolicyV2> = POLICY_V2) {
    this.shape = { ...shape };
    this.policy = policy;
    this.tree = new DenseQuadTree(shape.agentDepth);
    if (!Number.isInteger(shape.orgDepth) || shape.orgDepth < 1 || shape.orgDepth > 7) throw new RangeError('orgDepth must be in [1, 7]');
    this.addPosition(0n);
    this.sorted.push(0);
    this.tree.set(0, this.leafHash(0));
  }

  get root(): bigint {
    return this.tree.root;
  }

  /** An independent copy of the state (no hashing): cheaper than replaying the log. */
  clone(): AgentState {
    const c = new AgentState(this.shape, this.policy);
    c.tree = this.tree.clone();
    c.agents = this.agents.clone();
    c.sorted = this.sorted.clone();
    c.summaries = this.summaries.clone();
    c.tops = this.tops.clone();
    c.orgs = this.orgs.clone();
    c.chain = this.chain;
    c.applied = this.applied;
    return c;
  }

  /** A binary snapshot of the whole state (src/state/snapshot.ts). */
  toSnapshot(): Uint8Array {
    return encodeSnapshot({
      agentDepth: this.shape.agentDepth, orgDepth: this.shape.orgDepth, chain: this.chain, applied: this.applied, agents: this.agents.words(),
      sorted: this.sorted.values(), summaries: this.summaries.words(), tops: this.tops.words(), orgs: this.orgs.parts(), tree: this.tree.levelWords(),
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
    s.tree = DenseQuadTree.fromLevelWords(shape.agentDepth, p.tree);
    s.agents = KeyTable.fromWords(p.agents);
    s.sorted = IndexArray.adopt(p.sorted);
    s.summaries = WordArray.adopt(SUMMARY_WORDS, p.summaries);
    s.tops = WordArray.adopt(4, p.tops);
    s.orgs = SlotLists.fromParts(4, p.orgs, 4 ** shape.orgDepth);
    s.checkOrder();
    s.chain = p.chain;
    s.applied = p.applied;
    return s;
  }

  /**
   * The state `entries` lead to from genesis, as applying them one by one makes it (the same
   * root; chain and applied stay as apply leaves them), but with every node hashed once at the
   * end rather than along each record's paths: for building large states fast (benchmarks).
   * @throws RangeError (see check) for an entry apply would refuse.
   */
  static fromEntries(shape: StateShape, entries: Iterable<AppliedEntry>, policy: Readonly<ScorePolicyV2> = POLICY_V2): AgentState {
    const s = new AgentState(shape, policy);
    for (const entry of entries) {
      s.check(entry);
      const p = s.agents.find(entry.record.agent);
      s.record(p >= 0 ? p : s.addPosition(entry.record.agent), entry);
    }
    const order = Uint32Array.from({ length: s.agents.size }, (_, p) => p).sort((a, b) => s.agents.compareAt(a, b));
    s.sorted = IndexArray.adopt(order);
    const leaves = new WordArray(4, s.agents.size);
    for (let p = 0; p < s.agents.size; p++) {
      const quarters = new Map<number, number>();
      for (const [orgIndex] of s.orgs.of(p)) quarters.set(s.quarterOf(orgIndex), orgIndex);
      for (const orgIndex of quarters.values()) s.rehashTop(p, orgIndex);
      leaves.push(s.leafHash(p));
    }
    s.tree = DenseQuadTree.fromLeaves(shape.agentDepth, leaves);
    return s;
  }

  // A restored state's sorted: every position once, the sentinel 0 first, agents increasing.
  private checkOrder(): void {
    if (this.sorted.get(0) !== 0 || this.agents.keyAt(0) !== 0n) throw new RangeError('snapshot has no sentinel first');
    for (let k = 1; k < this.sorted.length; k++) {
      const p = this.sorted.get(k);
      if (p >= this.agents.size || this.agents.compareAt(this.sorted.get(k - 1), p) >= 0) throw new RangeError('snapshot agents are not in increasing order');
    }
  }

  /** Number of agents (the sentinel excluded). */
  get agentCount(): number {
    return this.agents.size - 1;
  }

  // The position of an agent, -1 if it has none (the sentinel 0 has none).
  private positionOf(agent: bigint): number {
    return agent === 0n ? -1 : this.agents.find(agent);
  }

  /** Whether the agent has a leaf. */
  has(agent: bigint): boolean {
    return this.positionOf(agent) >= 0;
  }

  /**
   * Every organisation slot in use, as (agent, orgIndex, nextEpoch): what ingestion needs to
   * refuse a record the batch circuit would refuse.
   */
  *orgEpochs(): Generator<{ agent: bigint; orgIndex: number; nextEpoch: bigint }> {
    for (let p = 1; p < this.agents.size; p++) {
      const agent = this.agents.keyAt(p);
      for (const [orgIndex, slot] of this.orgs.of(p)) yield { agent, orgIndex, nextEpoch: slotNextEpoch(slot) };
    }
  }

  /**
   * An organisation's slot for an agent (the empty slot if it never reported on it).
   * @throws RangeError for an orgIndex outside the organisation set.
   */
  orgSlot(agent: bigint, orgIndex: number): OrgSlot {
    const p = this.positionOf(agent);
    if (p < 0) return { ...EMPTY_ORG_SLOT };
    const capacity = 4 ** this.shape.orgDepth;
    if (!Number.isSafeInteger(orgIndex) || orgIndex < 0 || orgIndex >= capacity) throw new RangeError(`index must be an integer in [0, ${capacity})`);
    return unpackOrgSlot(this.slotAt(p, orgIndex), this.policy);
  }

  private slotAt(p: number, orgIndex: number): bigint {
    const e = this.orgs.find(p, orgIndex);
    return e < 0 ? 0n : this.orgs.value(e);
  }

  private topsAt(p: number): bigint[] {
    return [0, 1, 2, 3].map((j) => this.tops.get(4 * p + j));
  }

  // The rank of `agent` in sorted: the number of agents below it, the sentinel included.
  private rank(agent: bigint): number {
    return this.agents.rank(this.sorted, agent);
  }

  private nextAgent(p: number): bigint {
    const next = this.rank(this.agents.keyAt(p)) + 1;
    return next < this.sorted.length ? this.agents.keyAt(this.sorted.get(next)) : 0n;
  }

  private fullLeaf(p: number): AgentLeaf {
    return { agent: this.agents.keyAt(p), nextAgent: this.nextAgent(p), summary: unpackSummary(this.summaries.get(p)), ext: 0n, orgs: this.topsAt(p) };
  }

  private leafHash(p: number): bigint {
    return agentLeafHash(this.fullLeaf(p));
  }

  // A new position for `agent`, without evidence or organisations, not yet in sorted or the tree.
  private addPosition(agent: bigint): number {
    const p = this.agents.add(agent);
    this.summaries.push(0n);
    for (let j = 0; j < 4; j++) this.tops.push(emptyRoot(this.shape.orgDepth - 1));
    this.orgs.addOwner();
    return p;
  }

  /** The leaf, position and path of an agent, or undefined if it has no leaf. */
  lookup(agent: bigint): { leaf: AgentLeaf; index: number; path: QuadPath } | undefined {
    const p = this.positionOf(agent);
    return p < 0 ? undefined : { leaf: this.fullLeaf(p), index: p, path: this.tree.path(p) };
  }

  private checkPosition(index: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.agents.size) throw new RangeError(`no leaf at ${index}`);
  }

  /** A copy of the leaf at `index`. @throws RangeError if there is none. */
  leafAt(index: number): AgentLeaf {
    this.checkPosition(index);
    return this.fullLeaf(index);
  }

  /** The tree path of the leaf position `index` (which may be empty). */
  pathAt(index: number): QuadPath {
    return this.tree.path(index);
  }

  /** The organisation set of the agent at `index` (built from its slots). @throws RangeError if there is none. */
  orgSetAt(index: number): QuadTree {
    this.checkPosition(index);
    const t = new QuadTree(this.shape.orgDepth);
    for (const [orgIndex, slot] of this.orgs.of(index)) t.set(orgIndex, slot);
    return t;
  }

  /** Leaf hashes by position, sentinel first: enough to rebuild the tree. */
  leafHashes(): bigint[] {
    return Array.from({ length: this.agents.size }, (_, p) => this.tree.get(p));
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
      if (this.agents.size >= this.tree.capacity) throw new RangeError('the agent state tree is full');
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
    const existing = this.agents.find(r.agent);
    if (existing >= 0) {
      const before = { nextAgent: this.nextAgent(existing), summary: this.summaries.get(existing), ext: 0n, index: BigInt(existing), siblings: this.tree.path(existing) };
      const orgOld = this.record(existing, entry);
      const orgSiblings = this.rehashTop(existing, orgIndex);
      this.tree.set(existing, this.leafHash(existing));
      return { kind: 'update', witness: { ...rec, ...before, orgOld, orgSiblings } };
    }
    const rank = this.rank(r.agent);
    const lowIndex = this.sorted.get(rank - 1);
    const low = this.fullLeaf(lowIndex);
    const lowFields = {
      lowAgent: low.agent, lowNextAgent: low.nextAgent, lowSummary: packSummary(low.summary), lowExt: low.ext, lowOrgs: [...low.orgs],
      lowIndex: BigInt(lowIndex), lowSiblings: this.tree.path(lowIndex),
    };
    const newIndex = this.addPosition(r.agent);
    this.record(newIndex, entry);
    this.rehashTop(newIndex, orgIndex);
    this.sorted.insert(rank, newIndex);
    // Re-link the low leaf first: the new slot's path is taken in the tree after the re-link.
    this.tree.set(lowIndex, this.leafHash(lowIndex));
    const newSiblings = this.tree.path(newIndex);
    this.tree.set(newIndex, this.leafHash(newIndex));
    return { kind: 'insert', witness: { ...rec, ...lowFields, newIndex: BigInt(newIndex), newSiblings } };
  }

  /**
   * Adds a checked entry's record to the slot and the summary of position p (ApplyUpdate /
   * ApplyInsert), hashing nothing. @returns the slot before.
   */
  private record(p: number, { record: r, orgIndex }: AppliedEntry): bigint {
    const trials = weightedTrials(r, this.policy);
    const e = this.orgs.find(p, orgIndex);
    const orgOld = e < 0 ? 0n : this.orgs.value(e);
    const old = unpackOrgSlot(orgOld, this.policy);
    const slot = this.nextSlot(old, r.epoch, r.kept, trials);
    const packed = packOrgSlot(slot, this.policy);
    if (e < 0) this.orgs.add(p, orgIndex, packed);
    else this.orgs.setValue(e, packed);
    const s = unpackSummary(this.summaries.get(p));
    const summary: AgentSummary = {
      successes: s.successes - old.cappedSuccesses + slot.cappedSuccesses,
      trials: s.trials - old.cappedTrials + slot.cappedTrials,
      records: s.records + (trials > 0n ? 1n : 0n),
      orgCount: s.orgCount + (old.trials === 0n && trials > 0n ? 1n : 0n),
    };
    this.summaries.set(p, packSummary(summary));
    return orgOld;
  }

  /**
   * Hashes the organisation set of position p again after its slot orgIndex changed: the slot's
   * path in the set's top quarter from the slots there, and that quarter's root, the top child
   * the leaf keeps. @returns the slot's path in the set (the same before and after).
   */
  private rehashTop(p: number, orgIndex: number): QuadPath {
    const quarter = 4 ** (this.shape.orgDepth - 1);
    const q = this.quarterOf(orgIndex);
    const local = orgIndex - q * quarter;
    const near = [...this.orgs.of(p)].filter(([k]) => this.quarterOf(k) === q).map(([k, v]): [number, bigint] => [k - q * quarter, v]);
    const lower = sparsePath(this.shape.orgDepth - 1, near, local);
    const path = [...lower, this.topsAt(p).filter((_, j) => j !== q)];
    this.tops.set(4 * p + q, quadRootFromPath(this.slotAt(p, orgIndex), local, lower));
    return path;
  }

  // Which of the organisation set's four top children holds slot orgIndex.
  private quarterOf(orgIndex: number): number {
    return Math.floor(orgIndex / 4 ** (this.shape.orgDepth - 1));
  }

  // An organisation's slot after one more record (ApplyUpdate / ApplyInsert).
  private nextSlot(old: OrgSlot, epoch: bigint, kept: bigint, trials: bigint): OrgSlot {
    const successes = old.successes + kept;
    const total = old.trials + trials;
    const capped = cappedContribution({ successes, trials: total }, this.policy);
    return { nextEpoch: epoch + 1n, successes, trials: total, cappedSuccesses: capped.successes, cappedTrials: capped.trials };
  }
}
