/**
 * Agent leaves of the state tree, the twin of circuits/lib/agent-leaf.circom.
 * @module
 */
import { poseidon } from './poseidon.ts';
import { TAG_LEAF } from './tags.ts';

/** An agent's leaf: its place in the sorted list and its running totals. */
export interface AgentLeaf {
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
export function agentLeafHash(l: AgentLeaf): bigint {
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
