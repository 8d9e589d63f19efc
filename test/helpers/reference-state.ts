/**
 * The agent state the plain way, for tests: a QuadTree for the agent tree and one per
 * organisation set, an array of leaves, a Map from agent to position and a sorted array of
 * agents (src/state/agent-state.ts's layout before its typed arrays). It checks nothing: feed
 * it entries the real state accepts. Its witnesses and roots are what the compact state must
 * give, entry for entry (test/unit/agent-state.test.ts).
 */
import { agentLeafHash, packSummary, type AgentLeaf, type AgentSummary } from '../../src/crypto/agent-leaf.ts';
import { packOrgSlot, unpackOrgSlot } from '../../src/crypto/org-slot.ts';
import { QuadTree } from '../../src/crypto/quad-tree.ts';
import { cappedContribution, POLICY_V2, weightedTrials } from '../../src/crypto/score-policy.ts';
import type { AppliedEntry, SlotResult, StateShape } from '../../src/state/agent-state.ts';

interface Leaf {
  agent: bigint;
  summary: AgentSummary;
  orgs: QuadTree;
}

export class ReferenceState {
  readonly tree: QuadTree;
  readonly leaves: Leaf[] = [];
  private readonly positions = new Map<bigint, number>();
  // Every agent in increasing order, the sentinel 0 first.
  private readonly sorted: bigint[] = [];

  constructor(readonly shape: StateShape) {
    this.tree = new QuadTree(shape.agentDepth);
    this.rehash(this.newLeaf(0n, 0));
  }

  get root(): bigint {
    return this.tree.root;
  }

  private newLeaf(agent: bigint, rank: number): number {
    this.leaves.push({ agent, summary: { successes: 0n, trials: 0n, records: 0n, orgCount: 0n }, orgs: new QuadTree(this.shape.orgDepth) });
    this.positions.set(agent, this.leaves.length - 1);
    this.sorted.splice(rank, 0, agent);
    return this.leaves.length - 1;
  }

  leaf(i: number): AgentLeaf {
    const { agent, summary, orgs } = this.leaves[i]!;
    return { agent, nextAgent: this.sorted[this.sorted.indexOf(agent) + 1] ?? 0n, summary: { ...summary }, ext: 0n, orgs: orgs.topChildren() };
  }

  private rehash(i: number): void {
    this.tree.set(i, agentLeafHash(this.leaf(i)));
  }

  apply({ record: r, orgIndex }: AppliedEntry): SlotResult {
    const rec = { ...r, orgIndex: BigInt(orgIndex) };
    const known = this.positions.get(r.agent);
    if (known !== undefined) {
      const l = this.leaf(known);
      const orgs = this.leaves[known]!.orgs;
      const before = { nextAgent: l.nextAgent, summary: packSummary(l.summary), ext: 0n, index: BigInt(known), siblings: this.tree.path(known) };
      const witness = { ...rec, ...before, orgOld: orgs.get(orgIndex), orgSiblings: orgs.path(orgIndex) };
      this.count(known, orgIndex, r);
      this.rehash(known);
      return { kind: 'update', witness };
    }
    const rank = this.sorted.filter((a) => a < r.agent).length;
    const lowIndex = this.positions.get(this.sorted[rank - 1]!)!;
    const low = this.leaf(lowIndex);
    const lowFields = {
      lowAgent: low.agent, lowNextAgent: low.nextAgent, lowSummary: packSummary(low.summary), lowExt: 0n, lowOrgs: [...low.orgs], lowIndex: BigInt(lowIndex),
      lowSiblings: this.tree.path(lowIndex),
    };
    const i = this.newLeaf(r.agent, rank);
    this.count(i, orgIndex, r);
    this.rehash(lowIndex);
    const newSiblings = this.tree.path(i);
    this.rehash(i);
    return { kind: 'insert', witness: { ...rec, ...lowFields, newIndex: BigInt(i), newSiblings } };
  }

  // The organisation's slot and the summary after the record.
  private count(i: number, orgIndex: number, r: AppliedEntry['record']): void {
    const leaf = this.leaves[i]!;
    const was = unpackOrgSlot(leaf.orgs.get(orgIndex), POLICY_V2);
    const trials = weightedTrials(r, POLICY_V2);
    const raw = { successes: was.successes + r.kept, trials: was.trials + trials };
    const capped = cappedContribution(raw, POLICY_V2);
    leaf.orgs.set(orgIndex, packOrgSlot({ nextEpoch: r.epoch + 1n, ...raw, cappedSuccesses: capped.successes, cappedTrials: capped.trials }, POLICY_V2));
    const s = leaf.summary;
    const withTrials = trials > 0n ? 1n : 0n;
    leaf.summary = {
      successes: s.successes + capped.successes - was.cappedSuccesses,
      trials: s.trials + capped.trials - was.cappedTrials,
      records: s.records + withTrials,
      orgCount: s.orgCount + (was.trials === 0n ? withTrials : 0n),
    };
  }
}
