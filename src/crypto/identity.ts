/**
 * Identities: Ed25519 public keys, their did:key form, and the field element circuits use
 * (docs/protocol.md, "Identities"). Pure and browser-safe.
 *
 *   did:key:z + base58btc(0xed 0x01 || publicKey)
 *   id(pk) = Poseidon(TAG_IDENTITY, hi128(pk), lo128(pk)) mod 2^252
 * @module
 */
import { bytesToBigint, describe } from './field.ts';
// One width's constants, not poseidon.ts's all: the verifier bundles this module.
import { poseidon3 } from './poseidon-constants/inputs-3.ts';
import { ID_BITS, TAG_IDENTITY } from './tags.ts';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
// multicodec ed25519-pub, as an unsigned varint: 0xed 0x01.
const ED25519_PUB = [0xed, 0x01];

function assertKey(pk: unknown, name = 'publicKey'): asserts pk is Uint8Array {
  if (!(pk instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array, got ${describe(pk)}`);
  if (pk.length !== 32) throw new RangeError(`${name} must be 32 bytes, got ${pk.length}`);
}

/** base58btc (Bitcoin alphabet) encoding; leading zero bytes become '1'. */
export function base58btcEncode(bytes: Uint8Array): string {
  let x = bytesToBigint(bytes);
  let out = '';
  while (x > 0n) {
    out = ALPHABET[Number(x % 58n)] + out;
    x /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

/**
 * base58btc decoding.
 * @throws TypeError for a non-string; RangeError for a character outside the alphabet.
 */
export function base58btcDecode(s: string): Uint8Array {
  if (typeof s !== 'string') throw new TypeError(`base58 input must be a string, got ${describe(s)}`);
  let x = 0n;
  for (const ch of s) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new RangeError('invalid base58btc character');
    x = x * 58n + BigInt(v);
  }
  const body: number[] = [];
  while (x > 0n) {
    body.unshift(Number(x & 0xffn));
    x >>= 8n;
  }
  let zeros = 0;
  while (zeros < s.length && s[zeros] === '1') zeros++;
  return Uint8Array.from([...new Array<number>(zeros).fill(0), ...body]);
}

/**
 * The did:key of an Ed25519 public key.
 * @throws TypeError / RangeError unless the key is 32 bytes.
 * @example didFromPublicKey(pk) // 'did:key:z6Mk...'
 */
export function didFromPublicKey(pk: Uint8Array): string {
  assertKey(pk);
  return 'did:key:z' + base58btcEncode(Uint8Array.from([...ED25519_PUB, ...pk]));
}

/**
 * The Ed25519 public key of a did:key.
 * @throws TypeError for a non-string; RangeError for anything but a canonical did:key of
 *   an Ed25519 key (other prefixes, codecs or lengths, non-canonical base58).
 */
export function publicKeyFromDid(did: string): Uint8Array {
  if (typeof did !== 'string') throw new TypeError(`did must be a string, got ${describe(did)}`);
  if (!did.startsWith('did:key:z') || did.length > 100) throw new RangeError('did must be a did:key with base58btc (z) encoding');
  const bytes = base58btcDecode(did.slice('did:key:z'.length));
  if (bytes.length !== 34 || bytes[0] !== ED25519_PUB[0] || bytes[1] !== ED25519_PUB[1]) throw new RangeError('did:key must hold an Ed25519 public key');
  const pk = bytes.slice(2);
  if (didFromPublicKey(pk) !== did) throw new RangeError('did:key is not canonically encoded');
  return pk;
}

/**
 * The identity's field element: Poseidon(TAG_IDENTITY, hi, lo) mod 2^252, where hi and lo are
 * the big-endian integers of the key's two 16-byte halves.
 * @throws TypeError / RangeError unless the key is 32 bytes; RangeError in the (2^-252)
 *   event that the result is 0, the reserved sentinel.
 * @example identityField(publicKeyFromDid(did))
 */
export function identityField(pk: Uint8Array): bigint {
  assertKey(pk);
  const id = poseidon3([TAG_IDENTITY, bytesToBigint(pk.subarray(0, 16)), bytesToBigint(pk.subarray(16))]) & ((1n << BigInt(ID_BITS)) - 1n);
  if (id === 0n) throw new RangeError('identity maps to the reserved value 0');
  return id;
}
