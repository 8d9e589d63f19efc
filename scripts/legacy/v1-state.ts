/**
 * Policy v1's agent state and batch witness, pinned as they were before policy v2 (from
 * src/state/agent-state.ts, src/state/batch.ts and src/crypto/agent-leaf.ts at commit 9777fc7),
 * for one use only: `npm run bench` proves policy v1's batch circuit (circuits/legacy/v1) in the
 * same run as the current one. Not part of the service; do not import it from src/.
 * @module
 */
import { chainStep, GENESIS_CHAIN } from '../../src/crypto/chain.ts';
import { assertRecord, recordCommitment, type OutcomeRecord } from '../../src/crypto/commitment.ts';
import { poseidon } from '../../src/crypto/poseidon.ts';
import { emptyRoot, QuadTree, type QuadPath } from '../../src/crypto/quad-tree.ts';
import { TAG_LEAF, TALLY_BITS } from '../../src/crypto/tags.ts';

/** An agent's leaf: its place in the sorted list and its running totals. */
interface AgentLeaf {
  agent: bigint;
  nextAgent: bigint;
  nextIndex: number;
  kept: bigint;
  broken: bigint;
  violations: bigint;
  records: bigint;
  orgCount: bigint;
  orgRoot: bigint;
  ext: bigint;
}

/** Poseidon(TAG_LEAF, agent, nextAgent, nextIndex, kept, broken, violations, records, orgCount, orgRoot, ext). */
function agentLeafHash(l: AgentLeaf): bigint {
  return poseidon([
    TAG_LEAF,
    l.agent,
    l.nextAgent,
    BigInt(l.nextIndex),
    l.kept,
    l.broken,
    l.violations,
    l.records,
    l.orgCount,
    l.orgRoot,
    l.ext,
  ]);
}

interface StateShape {
  agentDepth: number;
  orgDepth: number;
}

/** A log entry's content as the batch circuit consumes it. */
export interface AppliedEntry {
  record: OutcomeRecord;
  orgIndex: number;
}

/** The private inputs of one ApplyRecord slot (names match the circuit's signals). */
export interface SlotWitness {
  isReal: bigint;
  isNew: bigint;
  agent: bigint;
  org: bigint;
  orgIndex: bigint;
  epoch: bigint;
  kept: bigint;
  broken: bigint;
  violations: bigint;
  scope: bigint;
  salt: bigint;
  aAgent: bigint;
  aNextAgent: bigint;
  aNextIndex: bigint;
  aKept: bigint;
  aBroken: bigint;
  aViolations: bigint;
  aRecords: bigint;
  aOrgCount: bigint;
  aOrgRoot: bigint;
  aExt: bigint;
  aIndex: bigint;
  aSiblings: QuadPath;
  bIndex: bigint;
  bSiblings: QuadPath;
  orgOld: bigint;
  orgSiblings: QuadPath;
}

export const SLOT_FIELDS = [
  'isReal', 'isNew', 'agent', 'org', 'orgIndex', 'epoch', 'kept', 'broken', 'violations', 'scope', 'salt',
  'aAgent', 'aNextAgent', 'aNextIndex', 'aKept', 'aBroken', 'aViolations', 'aRecords', 'aOrgCount', 'aOrgRoot',
  'aExt', 'aIndex', 'aSiblings', 'bIndex', 'bSiblings', 'orgOld', 'orgSiblings',
] as const satisfies readonly (keyof SlotWitness)[];

const MAX_TALLY = (1n << BigInt(TALLY_BITS)) - 1n;

function zeroPath(depth: number): QuadPath {
  return Array.from({ length: depth }, () => [0n, 0n, 0n]);
}

/** The witness of a padding slot: all zeros, which the circuit lets through unchanged. */
export function paddingSlot(shape: StateShape): SlotWitness {
  return {
    isReal: 0n, isNew: 0n, agent: 0n, org: 0n, orgIndex: 0n, epoch: 0n, kept: 0n, broken: 0n, violations: 0n,
    scope: 0n, salt: 0n, aAgent: 0n, aNextAgent: 0n, aNextIndex: 0n, aKept: 0n, aBroken: 0n, aViolations: 0n,
    aRecords: 0n, aOrgCount: 0n, aOrgRoot: 0n, aExt: 0n, aIndex: 0n, aSiblings: zeroPath(shape.agentDepth),
    bIndex: 0n, bSiblings: zeroPath(shape.agentDepth), orgOld: 0n, orgSiblings: zeroPath(shape.orgDepth),
  };
}

/** The sentinel leaf at position 0 from genesis on. */
export function sentinelLeaf(orgDepth: number): AgentLeaf {
  return {
    agent: 0n, nextAgent: 0n, nextIndex: 0, kept: 0n, broken: 0n, violations: 0n, records: 0n, orgCount: 0n,
    orgRoot: emptyRoot(orgDepth), ext: 0n,
  };
}

/** The root of the state before any record: only the sentinel leaf. */
export function genesisRoot(shape: StateShape): bigint {
  const t = new QuadTree(shape.agentDepth);
  t.set(0, agentLeafHash(sentinelLeaf(shape.orgDepth)));
  return t.root;
}

export class V1AgentState {
  readonly shape: StateShape;
  private tree: QuadTree;
  private leaves: AgentLeaf[] = [];
  private orgSets: QuadTree[] = [];
  private indexOf = new Map<bigint, number>();
  // Agents in increasing order, for finding the low leaf of a new agent.
  private sorted: bigint[] = [];
  /** The log hash chain after the last applied entry. */
  chain: bigint = GENESIS_CHAIN;
  /** Number of log entries applied. */
  applied = 0;

  /** @throws RangeError if a depth is out of range. */
  constructor(shape: StateShape) {
    this.shape = { ...shape };
    this.tree = new QuadTree(shape.agentDepth);
    if (!Number.isInteger(shape.orgDepth) || shape.orgDepth < 1 || shape.orgDepth > 16) throw new RangeError('orgDepth must be in [1, 16]');
    this.addLeaf(sentinelLeaf(shape.orgDepth), new QuadTree(shape.orgDepth));
  }

  get root(): bigint {
    return this.tree.root;
  }

  /** An independent copy of the state (no hashing): cheaper than replaying the log. */
  clone(): V1AgentState {
    const c = new V1AgentState(this.shape);
    const self = c as unknown as { tree: QuadTree; leaves: AgentLeaf[]; orgSets: QuadTree[]; indexOf: Map<bigint, number>; sorted: bigint[] };
    self.tree = this.tree.clone();
    self.leaves = this.leaves.map((l) => ({ ...l }));
    self.orgSets = this.orgSets.map((t) => t.clone());
    self.indexOf = new Map(this.indexOf);
    self.sorted = [...this.sorted];
    c.chain = this.chain;
    c.applied = this.applied;
    return c;
  }

  /** Every agent's running totals (the sentinel excluded). */
  agentTotals(): Array<{ agent: bigint; kept: bigint; broken: bigint; violations: bigint }> {
    return this.leaves.slice(1).map((l) => ({ agent: l.agent, kept: l.kept, broken: l.broken, violations: l.violations }));
  }

  /** Number of agents (the sentinel excluded). */
  get agentCount(): number {
    return this.leaves.length - 1;
  }

  private addLeaf(leaf: AgentLeaf, orgs: QuadTree): number {
    const index = this.leaves.length;
    this.leaves.push(leaf);
    this.orgSets.push(orgs);
    this.indexOf.set(leaf.agent, index);
    this.tree.set(index, agentLeafHash(leaf));
    return index;
  }

  private write(index: number, leaf: AgentLeaf): void {
    this.leaves[index] = leaf;
    this.tree.set(index, agentLeafHash(leaf));
  }

  /** The leaf, position and path of an agent, or undefined if it has no leaf. */
  lookup(agent: bigint): { leaf: AgentLeaf; index: number; path: QuadPath } | undefined {
    const index = agent === 0n ? undefined : this.indexOf.get(agent);
    if (index === undefined) return undefined;
    return { leaf: { ...this.leaves[index]! }, index, path: this.tree.path(index) };
  }

  /** A copy of the leaf at `index`. @throws RangeError if there is none. */
  leafAt(index: number): AgentLeaf {
    const l = this.leaves[index];
    if (!l) throw new RangeError(`no leaf at ${index}`);
    return { ...l };
  }

  /** The tree path of the leaf position `index` (which may be empty). */
  pathAt(index: number): QuadPath {
    return this.tree.path(index);
  }

  /** Leaf hashes by position, sentinel first: enough to rebuild the tree. */
  leafHashes(): bigint[] {
    return this.leaves.map(agentLeafHash);
  }

  /** The largest agent below `agent` (the sentinel 0 if none). */
  private lowOf(agent: bigint): bigint {
    const pos = this.sortedInsertPos(agent);
    return pos === 0 ? 0n : this.sorted[pos - 1]!;
  }

  /**
   * Checks that `entry` can be applied (ranges, capacity, totals) without changing anything.
   * @throws RangeError naming the problem.
   */
  check(entry: AppliedEntry): void {
    assertRecord(entry.record);
    const { orgIndex } = entry;
    if (!Number.isSafeInteger(orgIndex) || orgIndex < 0 || orgIndex >= 4 ** this.shape.orgDepth) {
      throw new RangeError(`orgIndex must be in [0, 4^${this.shape.orgDepth})`);
    }
    const r = entry.record;
    const index = this.indexOf.get(r.agent);
    if (index === undefined) {
      if (this.leaves.length >= this.tree.capacity) throw new RangeError('the agent state tree is full');
      return;
    }
    const l = this.leaves[index]!;
    const orgSlot = this.orgSets[index]!.get(orgIndex);
    if (orgSlot !== 0n && orgSlot !== r.org) throw new RangeError(`orgIndex ${orgIndex} already holds another organisation for this agent`);
    if (l.kept + r.kept > MAX_TALLY || l.broken + r.broken > MAX_TALLY || l.violations + r.violations > MAX_TALLY) {
      throw new RangeError('the agent totals would exceed 2^48');
    }
  }

  /**
   * Applies one log entry and returns the witness of its ApplyRecord slot.
   * @throws RangeError (see check) before changing anything.
   */
  apply(entry: AppliedEntry): SlotWitness {
    this.check(entry);
    const { record: r, orgIndex } = entry;
    const commitment = recordCommitment(r);
    const common = {
      isReal: 1n, agent: r.agent, org: r.org, orgIndex: BigInt(orgIndex), epoch: r.epoch, kept: r.kept,
      broken: r.broken, violations: r.violations, scope: r.scope, salt: r.salt,
    };
    const existing = this.indexOf.get(r.agent);
    const aIndex = existing ?? this.indexOf.get(this.lowOf(r.agent))!;
    const a = this.leaves[aIndex]!;
    const aFields = {
      aAgent: a.agent, aNextAgent: a.nextAgent, aNextIndex: BigInt(a.nextIndex), aKept: a.kept, aBroken: a.broken,
      aViolations: a.violations, aRecords: a.records, aOrgCount: a.orgCount, aOrgRoot: a.orgRoot, aExt: a.ext,
      aIndex: BigInt(aIndex), aSiblings: this.tree.path(aIndex),
    };
    let witness: SlotWitness;
    if (existing !== undefined) {
      const orgs = this.orgSets[existing]!;
      const orgOld = orgs.get(orgIndex);
      const orgSiblings = orgs.path(orgIndex);
      orgs.set(orgIndex, r.org);
      this.write(existing, {
        ...a,
        kept: a.kept + r.kept,
        broken: a.broken + r.broken,
        violations: a.violations + r.violations,
        records: a.records + 1n,
        orgCount: a.orgCount + (orgOld === 0n ? 1n : 0n),
        orgRoot: orgs.root,
      });
      witness = {
        ...common, isNew: 0n, ...aFields, bIndex: 0n, bSiblings: zeroPath(this.shape.agentDepth), orgOld, orgSiblings,
      };
    } else {
      const bIndex = this.leaves.length;
      const orgs = new QuadTree(this.shape.orgDepth);
      const orgSiblings = orgs.path(orgIndex);
      orgs.set(orgIndex, r.org);
      // Re-link the low leaf first: slot B's path is taken in the tree after the re-link.
      this.write(aIndex, { ...a, nextAgent: r.agent, nextIndex: bIndex });
      const bSiblings = this.tree.path(bIndex);
      this.addLeaf(
        {
          agent: r.agent, nextAgent: a.nextAgent, nextIndex: a.nextIndex, kept: r.kept, broken: r.broken,
          violations: r.violations, records: 1n, orgCount: 1n, orgRoot: orgs.root, ext: 0n,
        },
        orgs,
      );
      this.sorted.splice(this.sortedInsertPos(r.agent), 0, r.agent);
      witness = { ...common, isNew: 1n, ...aFields, bIndex: BigInt(bIndex), bSiblings, orgOld: 0n, orgSiblings };
    }
    this.chain = chainStep(this.chain, { commitment, org: r.org, orgIndex });
    this.applied++;
    return witness;
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

/** BatchUpdate's public signals, in the circuit's order (docs/circuits.md). */
export const V1_BATCH_PUBLIC_SIGNALS = ['oldRoot', 'newRoot', 'oldChain', 'newChain', 'policyHash'] as const;
export type BatchPublic = Record<(typeof V1_BATCH_PUBLIC_SIGNALS)[number], bigint>;

export interface BatchInput {
  public: BatchPublic;
  /** Number of real (non-padding) entries. */
  count: number;
  /** The full circuit input: public and private signals by name. */
  input: Record<string, unknown>;
  slots: SlotWitness[];
}

/**
 * Applies `entries` (at most `batchSize`) to `state` and returns the circuit input.
 * If an entry is refused (RangeError) the entries before it have been applied: the caller
 * must rebuild the state from the log. Entries are validated at ingestion, so this is a bug.
 * @throws RangeError if there are more entries than the batch size, or an entry is refused.
 */
export function buildV1Batch(state: V1AgentState, entries: readonly AppliedEntry[], batchSize: number, policyHash: bigint): BatchInput {
  if (entries.length > batchSize) throw new RangeError(`a batch holds at most ${batchSize} entries, got ${entries.length}`);
  const oldRoot = state.root;
  const oldChain = state.chain;
  const slots = entries.map((e) => state.apply(e));
  while (slots.length < batchSize) slots.push(paddingSlot(state.shape));
  const pub: BatchPublic = { oldRoot, newRoot: state.root, oldChain, newChain: state.chain, policyHash };
  const input: Record<string, unknown> = { ...pub };
  for (const f of SLOT_FIELDS) input[f] = slots.map((s) => s[f]);
  return { public: pub, count: entries.length, input, slots };
}
