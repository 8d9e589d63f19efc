/**
 * Epochs of policy v2: whole days since the Unix epoch (1970-01-01 UTC is epoch 0). A record's
 * epoch may not lie after the day of the checkpoint that proves it plus the policy's skew; the
 * batch circuit takes that bound as its public input maxEpoch, and audit checks it against the
 * signed checkpoint's time. Pure.
 * @module
 */
import { describe } from './field.ts';
import type { ScorePolicyV2 } from './score-policy.ts';

function assertTime(ms: unknown): asserts ms is number {
  if (typeof ms !== 'number' || !Number.isSafeInteger(ms) || ms < 0) throw new RangeError(`time must be a non-negative integer of milliseconds, got ${describe(ms)}`);
}

/**
 * The epoch that contains a time.
 * @throws RangeError for a time that is not a non-negative safe integer.
 * @example epochOf(Date.UTC(2026, 10, 29), POLICY_V2) // 20786
 */
export function epochOf(ms: number, p: ScorePolicyV2): number {
  assertTime(ms);
  return Math.floor(ms / (Number(p.epochSeconds) * 1000));
}

/**
 * The latest epoch a record may carry at a time: its epoch plus the policy's skew.
 * @throws RangeError for a time that is not a non-negative safe integer.
 */
export function maxEpochAt(ms: number, p: ScorePolicyV2): number {
  return epochOf(ms, p) + Number(p.epochSkew);
}
