/**
 * Ed25519 on node:crypto (OpenSSL) for the service's hot path: verifying a submission's
 * signature under a registered organisation key and signing receipts, about ten times as fast
 * as the pure implementation in src/crypto/ed25519.ts, with the same strict rules:
 *
 * - S < L is checked here, before OpenSSL (RFC 8032 section 5.1.7: "If ... S >= L, the
 *   signature is invalid"), so S + L is refused whatever the library does;
 * - R must be canonical: OpenSSL compares the encoding of the recomputed R with the given
 *   bytes, and a recomputed encoding is always canonical, so a non-canonical R never matches;
 * - the check is cofactorless, [S]B = R + [k]A, as src/crypto/ed25519.ts's (which writes
 *   that equation itself, since noble's own check is cofactored);
 * - the public key must have passed assertValidPublicKey (canonical, not of small order):
 *   the registry only holds such keys, and `verifierFor` checks again.
 *
 * Signing is deterministic (RFC 8032), so its signatures equal src/crypto's byte for byte.
 * test/unit/fast-ed25519.test.ts checks both against src/crypto on RFC 8032 vectors and on
 * forged, malleated and hostile signatures.
 * @module
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { assertValidPublicKey } from '../crypto/ed25519.ts';

// DER prefixes of an Ed25519 SubjectPublicKeyInfo and of a PKCS #8 private key (RFC 8410).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
// L, the group order, little-endian (RFC 8032 section 5.1).
const L_LE = Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex');

/** Whether the little-endian scalar in s[0..32) is below L. */
function scalarBelowL(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    if (s[i]! < L_LE[i]!) return true;
    if (s[i]! > L_LE[i]!) return false;
  }
  return false;
}

/**
 * A strict verifier for one public key.
 * @throws TypeError / RangeError for a key that is not a canonical point of large order.
 */
export function verifierFor(publicKey: Uint8Array): (signature: Uint8Array, message: Uint8Array) => boolean {
  assertValidPublicKey(publicKey);
  const key: KeyObject = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
  return (signature, message) => {
    if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
    if (!scalarBelowL(signature.subarray(32))) return false;
    try {
      return nodeVerify(null, message, key, signature);
    } catch {
      return false;
    }
  };
}

/** A signer for one 32-byte secret key (seed). @throws RangeError for a wrong length. */
export function signerFor(secretKey: Uint8Array): (message: Uint8Array) => Uint8Array {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) throw new RangeError('secretKey must be 32 bytes');
  const key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey]), format: 'der', type: 'pkcs8' });
  return (message) => new Uint8Array(nodeSign(null, message, key));
}
