/**
 * The verifier's context of a threshold proof: who asked (audience), which request (nonce)
 * and until when it counts (expiry), folded into one public signal (docs/protocol.md,
 * "Threshold context"). Pure and browser-safe.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { assertBits, bytesToBigint, describe } from './field.ts';
// One width's constants, not poseidon.ts's all: the verifier bundles this module.
import { poseidon4 } from './poseidon-constants/inputs-4.ts';
import { TAG_CONTEXT } from './tags.ts';

/** Bits of an expiry (Unix seconds). */
export const EXPIRY_BITS = 40;

export interface VerifierContext {
  /** A fresh value chosen by the verifier for this request. */
  nonce: string;
  /** Who the presentation is for, e.g. a URL or a DID. */
  audience: string;
  /** Unix time in seconds after which the presentation must be refused. */
  expiry: number;
}

/**
 * A string as a field element: sha256(utf8) mod 2^248.
 * @throws TypeError if `s` is not a string.
 */
export function stringToField(s: string, name = 'value'): bigint {
  if (typeof s !== 'string') throw new TypeError(`${name} must be a string, got ${describe(s)}`);
  return bytesToBigint(sha256(new TextEncoder().encode(s))) & ((1n << 248n) - 1n);
}

/**
 * contextHash = Poseidon(TAG_CONTEXT, field(nonce), field(audience), expiry).
 * @throws TypeError for a non-string nonce or audience; RangeError for an expiry that is not
 *   an integer in [0, 2^40), or an empty nonce or audience.
 * @example contextHash({ nonce: 'b3f1...', audience: 'https://gateway.example', expiry: 1767225600 })
 */
export function contextHash(ctx: VerifierContext): bigint {
  if (typeof ctx !== 'object' || ctx === null) throw new TypeError(`context must be an object, got ${describe(ctx)}`);
  const nonce = stringToField(ctx.nonce, 'context.nonce');
  const audience = stringToField(ctx.audience, 'context.audience');
  if (ctx.nonce.length === 0) throw new RangeError('context.nonce must not be empty');
  if (ctx.audience.length === 0) throw new RangeError('context.audience must not be empty');
  if (typeof ctx.expiry !== 'number' || !Number.isSafeInteger(ctx.expiry)) throw new TypeError(`context.expiry must be an integer, got ${describe(ctx.expiry)}`);
  assertBits(BigInt(ctx.expiry), EXPIRY_BITS, 'context.expiry');
  return poseidon4([TAG_CONTEXT, nonce, audience, BigInt(ctx.expiry)]);
}
