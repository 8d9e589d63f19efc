/**
 * Ed25519 for zktrust: strict RFC 8032 verification (not ZIP-215), key checks and signing.
 * Strict means: S < L (so S + L is refused), canonical encodings of R and A (y < p), and no
 * small-order public key. Built on @noble/ed25519 with { zip215: false }, which does all
 * three. Pure and browser-safe.
 * @module
 */
import * as ed from '@noble/ed25519';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe } from './field.ts';

ed.hashes.sha512 = sha512;

function bytes(x: unknown, len: number | undefined, name: string): Uint8Array {
  if (!(x instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array, got ${describe(x)}`);
  if (len !== undefined && x.length !== len) throw new RangeError(`${name} must be ${len} bytes, got ${x.length}`);
  return x;
}

/**
 * Checks that a public key is a canonical encoding of a point that is not of small order.
 * @throws TypeError if not a Uint8Array; RangeError if not 32 bytes, not canonical, not on
 *   the curve, or of small order.
 */
export function assertValidPublicKey(pk: unknown): asserts pk is Uint8Array {
  bytes(pk, 32, 'publicKey');
  let p: ed.Point;
  try {
    p = ed.Point.fromBytes(pk as Uint8Array, false);
  } catch {
    throw new RangeError('publicKey is not a canonical Ed25519 point');
  }
  if (p.isSmallOrder()) throw new RangeError('publicKey is a small-order point');
}

/**
 * Strict RFC 8032 verification.
 * @returns true iff the signature is valid; false for any invalid signature or key.
 * @throws TypeError if an argument is not a Uint8Array; RangeError for a wrong length.
 * @example verifyStrict(sig, msg, pk)
 */
export function verifyStrict(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  bytes(signature, 64, 'signature');
  bytes(message, undefined, 'message');
  bytes(publicKey, 32, 'publicKey');
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** Signs `message` with a 32-byte secret key. @throws TypeError / RangeError for bad inputs. */
export function sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed.sign(bytes(message, undefined, 'message'), bytes(secretKey, 32, 'secretKey'));
}

/** A fresh key pair from the platform's cryptographic random source. */
export function generateKeyPair(): { secretKey: Uint8Array; publicKey: Uint8Array } {
  const secretKey = ed.utils.randomSecretKey();
  return { secretKey, publicKey: ed.getPublicKey(secretKey) };
}

/** The public key of a secret key. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  return ed.getPublicKey(bytes(secretKey, 32, 'secretKey'));
}
