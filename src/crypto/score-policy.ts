/**
 * Score policy v1 (docs/score-model.md): the trust score is floor(1000 * the Wilson lower
 * bound at z = 1.96) of s = kept successes in n = kept + broken + W_V * violations trials,
 * 0 without evidence. The TypeScript twin of circuits/lib/score-at-least.circom: the
 * threshold predicate needs no square root, and the exact score is the largest X for
 * which it holds. Pure, bigint only, browser-safe.
 * @module
 */
import { assertBits, describe } from './field.ts';
import { poseidon } from './poseidon.ts';
import { TAG_POLICY, TALLY_BITS } from './tags.ts';

export interface ScorePolicy {
  version: bigint;
  /** Weight of one policy violation, in broken promises. */
  violationWeight: bigint;
  /** z^2 = z2Num / z2Den. */
  z2Num: bigint;
  z2Den: bigint;
  /** Scores are integers in [0, scale). */
  scale: bigint;
}

/** Policy v1: W_V = 5, z^2 = 1.96^2 = 38416/10000, scale 1000. */
export const POLICY_V1: Readonly<ScorePolicy> = Object.freeze({ version: 1n, violationWeight: 5n, z2Num: 38416n, z2Den: 10000n, scale: 1000n });

/** Running totals of an agent, as in its leaf. */
export interface Tallies {
  kept: bigint;
  broken: bigint;
  violations: bigint;
}

export type Tier = 'untrusted' | 'probationary' | 'standard' | 'trusted' | 'verified partner';
/** Tiers of the 0..1000 scale with their minimum scores, highest first. */
export const TIERS: ReadonlyArray<{ tier: Tier; min: bigint }> = Object.freeze([
  { tier: 'verified partner', min: 900n },
  { tier: 'trusted', min: 700n },
  { tier: 'standard', min: 500n },
  { tier: 'probationary', min: 300n },
  { tier: 'untrusted', min: 0n },
]);

/**
 * policyHash = Poseidon(TAG_POLICY, version, W_V, z2Num, z2Den, scale).
 * @example policyHash(POLICY_V1)
 */
export function policyHash(p: ScorePolicy = POLICY_V1): bigint {
  return poseidon([TAG_POLICY, p.version, p.violationWeight, p.z2Num, p.z2Den, p.scale]);
}

function assertTallies(t: unknown): asserts t is Tallies {
  if (typeof t !== 'object' || t === null) throw new TypeError(`tallies must be an object, got ${describe(t)}`);
  const r = t as Record<string, unknown>;
  for (const k of ['kept', 'broken', 'violations']) assertBits(r[k], TALLY_BITS, `tallies.${k}`);
}

/**
 * The evidence: s successes out of n weighted trials.
 * @throws TypeError / RangeError for tallies that are not bigints in [0, 2^48).
 */
export function evidence(t: Tallies, p: ScorePolicy = POLICY_V1): { s: bigint; n: bigint } {
  assertTallies(t);
  return { s: t.kept, n: t.kept + t.broken + p.violationWeight * t.violations };
}

/**
 * "score >= X", exactly as the circuit decides it.
 * @throws TypeError if X is not a bigint; RangeError if X is outside [0, scale].
 * @example meetsThreshold({ kept: 40n, broken: 1n, violations: 0n }, 700n) // true
 */
export function meetsThreshold(t: Tallies, x: bigint, p: ScorePolicy = POLICY_V1): boolean {
  const { s, n } = evidence(t, p);
  if (typeof x !== 'bigint') throw new TypeError(`minScore must be a bigint, got ${describe(x)}`);
  if (x < 0n || x > p.scale) throw new RangeError(`minScore must be in [0, ${p.scale}], got ${x}`);
  if (x === 0n) return true;
  // No evidence proves nothing: with n = 0 the quadratic condition reads 0 >= 0 for every X.
  if (n === 0n || x >= p.scale) return false;
  const d = p.scale * s - x * n;
  if (d < 0n) return false;
  return d * d * p.z2Den >= p.z2Num * n * x * (p.scale - x);
}

/**
 * The exact score: the largest X in [0, scale) whose predicate holds (0 without evidence).
 * The predicate is monotone in X (docs/score-model.md), so a binary search finds it.
 * @throws TypeError / RangeError for invalid tallies.
 */
export function score(t: Tallies, p: ScorePolicy = POLICY_V1): bigint {
  let lo = 0n; // holds
  let hi = p.scale; // never holds
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (meetsThreshold(t, mid, p)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The tier of a score on the 0..1000 scale.
 * @throws TypeError if the score is not a bigint; RangeError outside [0, 1000].
 */
export function tier(score: bigint): Tier {
  if (typeof score !== 'bigint') throw new TypeError(`score must be a bigint, got ${describe(score)}`);
  if (score < 0n || score > 1000n) throw new RangeError(`score must be in [0, 1000], got ${score}`);
  return TIERS.find((t) => score >= t.min)!.tier;
}
