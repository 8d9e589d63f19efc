/**
 * Score policies (docs/score-model.md). The trust score is floor(1000 * the Wilson lower bound
 * at z = 1.96) of an agent's evidence, s successes out of n weighted trials, 0 without evidence.
 *
 * - Policy v1: the evidence is the agent's raw totals, s = kept and
 *   n = kept + broken + W_V * violations.
 * - Policy v2 (invariant 9 of DESIGN.md): each record is at most `recordCap` weighted trials;
 *   each organisation's contribution counts at most `orgCap` trials, scaled proportionally
 *   with the successes rounded down (against the agent) to a unit of 1/`trialUnits` trial;
 *   the evidence is the sum of the capped contributions, counted in those units. Records
 *   without trials count for nothing.
 *
 * The TypeScript twin of circuits/lib/score-at-least.circom (the threshold predicate, which
 * needs no square root; the exact score is the largest X for which it holds) and of
 * CappedContribution in circuits/lib/org-slot.circom. Pure, bigint only, browser-safe.
 * @module
 */
import { assertBits, describe } from './field.ts';
// The two widths of v1 and v2 policies, not poseidon.ts's all: the verifier bundles this module.
import { poseidon6 } from './poseidon-constants/inputs-6.ts';
import { poseidon11 } from './poseidon-constants/inputs-11.ts';
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

/** Policy v2's parameters beyond v1's (docs/score-model.md, "Policy v2"). */
export interface ScorePolicyV2 extends ScorePolicy {
  /** Most weighted trials one record may carry. */
  recordCap: bigint;
  /** Most trials one organisation's contribution to an agent counts for (C). */
  orgCap: bigint;
  /** Capped evidence is counted in units of 1/trialUnits trial (the rounding's precision). */
  trialUnits: bigint;
  /** Length of an epoch: epochs are days since the Unix epoch. */
  epochSeconds: bigint;
  /** How many epochs past the checkpoint's own a record's epoch may be (clock and time-zone skew). */
  epochSkew: bigint;
}

/** Policy v1: W_V = 5, z^2 = 1.96^2 = 38416/10000, scale 1000. */
export const POLICY_V1: Readonly<ScorePolicy> = Object.freeze({ version: 1n, violationWeight: 5n, z2Num: 38416n, z2Den: 10000n, scale: 1000n });

/**
 * Policy v2: v1's score of capped evidence; a record at most 1,000 weighted trials, an
 * organisation at most C = 8 trials per agent counted in hundredths of a trial, day-long
 * epochs, one day of skew (docs/score-model.md justifies the caps).
 */
export const POLICY_V2: Readonly<ScorePolicyV2> = Object.freeze({
  version: 2n, violationWeight: 5n, z2Num: 38416n, z2Den: 10000n, scale: 1000n,
  recordCap: 1000n, orgCap: 8n, trialUnits: 100n, epochSeconds: 86_400n, epochSkew: 1n,
});

/** s successes out of n weighted trials (policy v2: in units of 1/trialUnits trial). */
export interface Evidence {
  successes: bigint;
  trials: bigint;
}

/** A record's or an agent's raw tallies. */
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

function isV2(p: ScorePolicy): p is ScorePolicyV2 {
  return p.version >= 2n;
}

/**
 * The policy hash: v1 Poseidon(TAG_POLICY, version, W_V, z2Num, z2Den, scale); v2 appends
 * recordCap, orgCap, trialUnits, epochSeconds and epochSkew (docs/protocol.md, "Score policies").
 * @throws TypeError for a version 2 policy without its v2 parameters.
 * @example policyHash(POLICY_V2)
 */
export function policyHash(p: ScorePolicy = POLICY_V1): bigint {
  const v1 = [TAG_POLICY, p.version, p.violationWeight, p.z2Num, p.z2Den, p.scale];
  if (!isV2(p)) return poseidon6(v1);
  for (const k of ['recordCap', 'orgCap', 'trialUnits', 'epochSeconds', 'epochSkew'] as const) {
    if (typeof p[k] !== 'bigint') throw new TypeError(`policy.${k} must be a bigint, got ${describe(p[k])}`);
  }
  return poseidon11([...v1, p.recordCap, p.orgCap, p.trialUnits, p.epochSeconds, p.epochSkew]);
}

/** The policies whose proofs verifiers accept, oldest first. */
/** The policy compiled into the circuits of circuits/circuits.json: what a service proves under now. */
export const CIRCUIT_POLICY: Readonly<ScorePolicyV2> = POLICY_V2;

export const ACCEPTED_POLICIES: ReadonlyArray<Readonly<ScorePolicy>> = Object.freeze([POLICY_V1, POLICY_V2]);
/** Their hashes (decimal strings, as public signals and checkpoints carry them). */
export const ACCEPTED_POLICY_HASHES: readonly string[] = Object.freeze(ACCEPTED_POLICIES.map((p) => policyHash(p).toString()));

function assertTallies(t: unknown, bits = TALLY_BITS): asserts t is Tallies {
  if (typeof t !== 'object' || t === null) throw new TypeError(`tallies must be an object, got ${describe(t)}`);
  const r = t as Record<string, unknown>;
  for (const k of ['kept', 'broken', 'violations']) assertBits(r[k], bits, `tallies.${k}`);
}

function assertEvidence(e: unknown): asserts e is Evidence {
  if (typeof e !== 'object' || e === null) throw new TypeError(`evidence must be an object, got ${describe(e)}`);
  const r = e as Record<string, unknown>;
  assertBits(r.successes, TALLY_BITS, 'evidence.successes');
  assertBits(r.trials, TALLY_BITS, 'evidence.trials');
  if ((r.successes as bigint) > (r.trials as bigint)) throw new RangeError('evidence.successes must not exceed evidence.trials');
}

/**
 * Weighted trials of tallies: kept + broken + W_V * violations.
 * @throws TypeError / RangeError for tallies that are not bigints in [0, 2^48).
 */
export function weightedTrials(t: Tallies, p: ScorePolicy = POLICY_V1): bigint {
  assertTallies(t);
  return t.kept + t.broken + p.violationWeight * t.violations;
}

/**
 * Policy v1's evidence: s = kept successes out of n = weighted trials.
 * @throws TypeError / RangeError for tallies that are not bigints in [0, 2^48).
 */
export function evidence(t: Tallies, p: ScorePolicy = POLICY_V1): { s: bigint; n: bigint } {
  return { s: t.kept, n: weightedTrials(t, p) };
}

/**
 * "score >= X" on evidence, exactly as ScoreAtLeast decides it.
 * @throws TypeError if X is not a bigint; RangeError if X is outside [0, scale] or the
 *   evidence is not 0 <= successes <= trials < 2^48.
 * @example meetsEvidenceThreshold({ successes: 40n, trials: 41n }, 700n) // true
 */
export function meetsEvidenceThreshold(e: Evidence, x: bigint, p: ScorePolicy = POLICY_V1): boolean {
  assertEvidence(e);
  return predicate(e.successes, e.trials, x, p);
}

// The predicate of docs/score-model.md for 0 <= s <= n, counted in units of 1/trialUnits
// trial (1 in policy v1).
function predicate(s: bigint, n: bigint, x: bigint, p: ScorePolicy): boolean {
  if (typeof x !== 'bigint') throw new TypeError(`minScore must be a bigint, got ${describe(x)}`);
  if (x < 0n || x > p.scale) throw new RangeError(`minScore must be in [0, ${p.scale}], got ${x}`);
  if (x === 0n) return true;
  // No evidence proves nothing: with n = 0 the quadratic condition reads 0 >= 0 for every X.
  if (n === 0n || x >= p.scale) return false;
  const d = p.scale * s - x * n;
  if (d < 0n) return false;
  const units = isV2(p) ? p.trialUnits : 1n;
  return d * d * p.z2Den >= p.z2Num * units * n * x * (p.scale - x);
}

// The largest X in [0, scale) for which a monotone predicate holds.
function largestHolding(holds: (x: bigint) => boolean, p: ScorePolicy): bigint {
  let lo = 0n; // holds
  let hi = p.scale; // never holds
  while (hi - lo > 1n) {
    const mid = (lo + hi) / 2n;
    if (holds(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/**
 * The exact score of evidence: the largest X in [0, scale) whose predicate holds (0 without
 * evidence). The predicate is monotone in X (docs/score-model.md), so a binary search finds it.
 * @throws TypeError / RangeError for invalid evidence.
 */
export function evidenceScore(e: Evidence, p: ScorePolicy = POLICY_V1): bigint {
  assertEvidence(e);
  return largestHolding((x) => predicate(e.successes, e.trials, x, p), p);
}

/**
 * Policy v1: "score >= X" on an agent's raw totals.
 * @throws TypeError if X is not a bigint; RangeError if X is outside [0, scale] or a tally
 *   is outside [0, 2^48).
 * @example meetsThreshold({ kept: 40n, broken: 1n, violations: 0n }, 700n) // true
 */
export function meetsThreshold(t: Tallies, x: bigint, p: ScorePolicy = POLICY_V1): boolean {
  const { s, n } = evidence(t, p);
  return predicate(s, n, x, p);
}

/**
 * Policy v1: the exact score of an agent's raw totals.
 * @throws TypeError / RangeError for invalid tallies.
 */
export function score(t: Tallies, p: ScorePolicy = POLICY_V1): bigint {
  const { s, n } = evidence(t, p);
  return largestHolding((x) => predicate(s, n, x, p), p);
}

/**
 * Policy v2's influence cap on one organisation's raw evidence about one agent
 * (CappedContribution), in units of 1/trialUnits trial: trials count min(n, orgCap); successes
 * are scaled by the same factor and rounded down to a unit, so the failures are rounded up.
 * n = 0 gives nothing.
 * @throws TypeError / RangeError for invalid evidence.
 * @example cappedContribution({ successes: 999n, trials: 1000n }, POLICY_V2) // { successes: 799n, trials: 800n }
 */
export function cappedContribution(e: Evidence, p: ScorePolicyV2 = POLICY_V2): Evidence {
  assertEvidence(e);
  const trials = p.trialUnits * (e.trials < p.orgCap ? e.trials : p.orgCap);
  return { successes: e.trials === 0n ? 0n : (e.successes * trials) / e.trials, trials };
}

/**
 * Policy v2's evidence of an agent: the sum of every organisation's capped contribution,
 * each contribution being the sum of that organisation's records.
 * @throws TypeError / RangeError for invalid evidence.
 */
export function cappedEvidence(contributions: Iterable<Evidence>, p: ScorePolicyV2 = POLICY_V2): Evidence {
  let successes = 0n;
  let trials = 0n;
  for (const c of contributions) {
    const capped = cappedContribution(c, p);
    successes += capped.successes;
    trials += capped.trials;
  }
  return { successes, trials };
}

/**
 * Whether a record fits policy v2's record cap.
 * @throws TypeError / RangeError for tallies that are not bigints in [0, 2^48).
 */
export function withinRecordCap(t: Tallies, p: ScorePolicyV2 = POLICY_V2): boolean {
  return weightedTrials(t, p) <= p.recordCap;
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
