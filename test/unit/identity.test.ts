/**
 * did:key and the identity map: round trips, a known did:key vector, strict decoding, and
 * the identity field element against Poseidon directly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base58btcDecode, base58btcEncode, didFromPublicKey, identityField, publicKeyFromDid } from '../../src/crypto/identity.ts';
import { poseidon } from '../../src/crypto/poseidon.ts';

describe('identity', () => {
  it('encodes a known Ed25519 did:key (the all-zero key gives the multibase prefix z6Mk)', () => {
    const did = didFromPublicKey(new Uint8Array(32));
    expect(did.startsWith('did:key:z6Mk')).toBe(true);
    expect(publicKeyFromDid(did)).toEqual(new Uint8Array(32));
  });

  it('round-trips keys and base58', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (pk) => {
        expect(publicKeyFromDid(didFromPublicKey(pk))).toEqual(pk);
      }),
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        expect(base58btcDecode(base58btcEncode(b))).toEqual(b);
      }),
    );
  });

  it('refuses malformed did:key strings', () => {
    const good = didFromPublicKey(new Uint8Array(32).fill(7));
    for (const bad of ['', 'did:web:example.com', good.replace('did:key:z', 'did:key:m'), good + '1', good.slice(0, -1), good.replace(/.$/, '0'), 'did:key:z' + base58btcEncode(Uint8Array.from([0xe7, 0x01, ...new Uint8Array(33)]))]) {
      expect(() => publicKeyFromDid(bad)).toThrow(RangeError);
    }
    for (const bad of [null, 5, Symbol('x'), undefined]) expect(() => publicKeyFromDid(bad as never)).toThrow(TypeError);
  });

  it('maps a key to Poseidon(1, hi, lo) mod 2^252 and refuses wrong sizes', () => {
    const pk = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const hi = BigInt('0x' + Buffer.from(pk.subarray(0, 16)).toString('hex'));
    const lo = BigInt('0x' + Buffer.from(pk.subarray(16)).toString('hex'));
    expect(identityField(pk)).toBe(poseidon([1n, hi, lo]) % 2n ** 252n);
    expect(identityField(pk)).toBeLessThan(2n ** 252n);
    expect(() => identityField(new Uint8Array(31))).toThrow(RangeError);
    expect(() => identityField([1, 2] as never)).toThrow(TypeError);
  });
});
