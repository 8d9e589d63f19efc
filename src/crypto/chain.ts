/**
 * The log hash chain folded by the batch circuit (docs/protocol.md, "The log and its hash chain").
 * @module
 */
import { assertBits, assertField } from './field.ts';
import { poseidon } from './poseidon.ts';
import { ID_BITS, TAG_CHAIN } from './tags.ts';

/** chain_0: the chain before the first log entry. */
export const GENESIS_CHAIN = 0n;

/** What the chain commits to for one log entry. */
export interface ChainEntry {
  commitment: bigint;
  org: bigint;
  orgIndex: number;
}

/**
 * chain_{i+1} = Poseidon(TAG_CHAIN, chain_i, commitment, org, orgIndex).
 * @throws TypeError / RangeError for a non-field chain or commitment, an org outside
 *   [1, 2^252) or a negative or non-integer orgIndex.
 * @example chainStep(GENESIS_CHAIN, { commitment, org, orgIndex: 0 })
 */
export function chainStep(chain: bigint, entry: ChainEntry): bigint {
  assertField(chain, 'chain');
  assertField(entry.commitment, 'entry.commitment');
  assertBits(entry.org, ID_BITS, 'entry.org');
  if (!Number.isSafeInteger(entry.orgIndex) || entry.orgIndex < 0) throw new RangeError('entry.orgIndex must be a non-negative integer');
  return poseidon([TAG_CHAIN, chain, entry.commitment, entry.org, BigInt(entry.orgIndex)]);
}

/** The chain after folding `entries` onto `start`. */
export function chainOf(entries: readonly ChainEntry[], start: bigint = GENESIS_CHAIN): bigint {
  let c = start;
  for (const e of entries) c = chainStep(c, e);
  return c;
}
