/**
 * Outcome records and their commitments, the twin of circuits/lib/record-commitment.circom.
 * @module
 */
import { assertBits, assertField, describe } from './field.ts';
import { poseidon } from './poseidon.ts';
import { COUNTER_BITS, ID_BITS, TAG_RECORD } from './tags.ts';

/** One organisation's account of one agent in one epoch (docs/protocol.md, "Records"). */
export interface OutcomeRecord {
  agent: bigint;
  org: bigint;
  epoch: bigint;
  kept: bigint;
  broken: bigint;
  violations: bigint;
  scope: bigint;
  salt: bigint;
}

export const RECORD_FIELDS = ['agent', 'org', 'epoch', 'kept', 'broken', 'violations', 'scope', 'salt'] as const;

/**
 * Checks every field of a record against its range.
 * @throws TypeError for a missing or non-bigint field; RangeError for an out-of-range one
 *   (identities must be in [1, 2^252), counters in [0, 2^32), salt in [0, r)).
 */
export function assertRecord(record: unknown): asserts record is OutcomeRecord {
  if (typeof record !== 'object' || record === null) throw new TypeError(`record must be an object, got ${describe(record)}`);
  const r = record as Record<string, unknown>;
  for (const k of ['agent', 'org'] as const) {
    assertBits(r[k], ID_BITS, `record.${k}`);
    if (r[k] === 0n) throw new RangeError(`record.${k} must not be 0 (the reserved sentinel)`);
  }
  for (const k of ['epoch', 'kept', 'broken', 'violations', 'scope'] as const) assertBits(r[k], COUNTER_BITS, `record.${k}`);
  assertField(r.salt, 'record.salt');
}

/**
 * The record's commitment: Poseidon(TAG_RECORD, agent, org, epoch, kept, broken, violations, scope, salt).
 * @throws TypeError / RangeError as assertRecord.
 * @example recordCommitment({ agent, org, epoch: 20000n, kept: 9n, broken: 1n, violations: 0n, scope: 0n, salt })
 */
export function recordCommitment(record: OutcomeRecord): bigint {
  assertRecord(record);
  return poseidon([TAG_RECORD, ...RECORD_FIELDS.map((k) => record[k])]);
}
