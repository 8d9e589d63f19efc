/**
 * Ed25519 for zktrust: strict RFC 8032 verification (not ZIP-215), key checks and signing.
 * Strict means: S < L (so S + L is refused), canonical encodings of R and A (y < p), no
 * small-order public key, and the cofactorless equation [S]B = R + [k]A. Pure and
 * browser-safe, on @noble/ed25519's group arithmetic.
 *
 * Why the equation is written here: noble's `verify` checks the cofactored equation
 * [8][S]B = [8]R + [8][k]A whatever its options, which also accepts a signature whose R has a
 * small-order component. The aggregator's hot path (src/engines/fast-ed25519.ts, OpenSSL) is
 * cofactorless and refuses it. One signature must mean the same to every part of zktrust and to
 * every implementation of docs/protocol.md, so both use the cofactorless equation.
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
    // Canonical encodings (y < p) of R and A; A not of small order.
    const r = ed.Point.fromBytes(signature.subarray(0, 32), false);
    const a = ed.Point.fromBytes(publicKey, false);
    if (a.isSmallOrder()) return false;
    const s = littleEndian(signature.subarray(32));
    if (s >= L) return false;
    const k = ed.etc.mod(littleEndian(sha512(ed.etc.concatBytes(signature.subarray(0, 32), publicKey, message))), L);
    return ed.Point.BASE.multiplyUnsafe(s).equals(r.add(a.multiplyUnsafe(k)));
  } catch {
    return false;
  }
}

/** The group order L (RFC 8032 section 5.1). */
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function littleEndian(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]!);
  return x;
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
