/**
 * Agent leaves of the state tree (policy v2), the twin of circuits/lib/agent-leaf.circom:
 *
 *   leaf = Poseidon(TAG_LEAF, agent, nextAgent, summary, ext, orgs[0..3])
 *   summary = successes + 2^48 * trials + 2^96 * records + 2^144 * orgCount
 *
 * where orgs are the four children of the root of the agent's organisation set.
 * @module
 */
import { assertBits } from './field.ts';
import { poseidon } from './poseidon.ts';
import { TAG_LEAF, TALLY_BITS } from './tags.ts';

/** An agent's capped evidence and counts (docs/score-model.md). */
export interface AgentSummary {
  /** Capped successes, summed over organisations. */
  successes: bigint;
  /** Capped weighted trials, summed over organisations. */
  trials: bigint;
  /** Records with at least one trial. */
  records: bigint;
  /** Organisations with at least one trial. */
  orgCount: bigint;
}

export const EMPTY_SUMMARY: Readonly<AgentSummary> = Object.freeze({ successes: 0n, trials: 0n, records: 0n, orgCount: 0n });

/** An agent's leaf: its place in the sorted list, its summary and its organisation set. */
export interface AgentLeaf {
  agent: bigint;
  nextAgent: bigint;
  summary: AgentSummary;
  ext: bigint;
  /** The four children of the organisation set's root. */
  orgs: readonly bigint[];
}

const SUMMARY_FIELDS = ['successes', 'trials', 'records', 'orgCount'] as const;
const W = BigInt(TALLY_BITS);

/**
 * The packed summary.
 * @throws TypeError / RangeError for a field that is not a bigint in [0, 2^48).
 */
export function packSummary(s: AgentSummary): bigint {
  let x = 0n;
  SUMMARY_FIELDS.forEach((k, i) => {
    assertBits(s[k], TALLY_BITS, `summary.${k}`);
    x += s[k] << (W * BigInt(i));
  });
  return x;
}

/**
 * The fields of a packed summary (UnpackSummary).
 * @throws TypeError / RangeError for a value that is not a bigint in [0, 2^192).
 */
export function unpackSummary(x: bigint): AgentSummary {
  assertBits(x, 4 * TALLY_BITS, 'summary');
  const mask = (1n << W) - 1n;
  return { successes: x & mask, trials: (x >> W) & mask, records: (x >> (2n * W)) & mask, orgCount: (x >> (3n * W)) & mask };
}

/**
 * Poseidon(TAG_LEAF, agent, nextAgent, summary, ext, orgs[0], orgs[1], orgs[2], orgs[3]).
 * @throws RangeError if orgs does not have four elements, or the summary is out of range.
 */
export function agentLeafHash(l: AgentLeaf): bigint {
  if (l.orgs.length !== 4) throw new RangeError(`orgs must have 4 elements, got ${l.orgs.length}`);
  return poseidon([TAG_LEAF, l.agent, l.nextAgent, packSummary(l.summary), l.ext, ...l.orgs]);
}
