/**
 * The service's node:crypto Ed25519 against the strict pure implementation (src/crypto):
 * identical signatures, identical verdicts on RFC 8032 vectors, honest, forged and malleated
 * (S + L, non-canonical R) signatures, and refusal of small-order and non-canonical keys.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, publicKeyOf, sign, verifyStrict } from '../../src/crypto/ed25519.ts';
import { signerFor, verifierFor } from '../../src/engines/fast-ed25519.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const le = (x: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((x >> BigInt(8 * i)) & 0xffn));
const fromLe = (b: Uint8Array) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);

describe('fast Ed25519 (node:crypto) agrees with the strict reference', () => {
  it('RFC 8032 section 7.1 test 3', () => {
    const sk = hex('c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7');
    const pk = hex('fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025');
    const msg = hex('af82');
    const sig = '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a';
    expect(Buffer.from(signerFor(sk)(msg)).toString('hex')).toBe(sig);
    expect(verifierFor(pk)(hex(sig), msg)).toBe(true);
    expect(Buffer.from(publicKeyOf(sk)).equals(Buffer.from(pk))).toBe(true);
  });

  it('same signatures and same verdicts on random keys, messages and tampering', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), fc.nat(63), fc.nat(7), (seed, msg, at, bit) => {
        const pk = publicKeyOf(seed);
        const sig = sign(msg, seed);
        if (!Buffer.from(signerFor(seed)(msg)).equals(Buffer.from(sig))) return false;
        const verify = verifierFor(pk);
        const tampered = sig.slice();
        tampered[at]! ^= 1 << bit;
        return verify(sig, msg) === true && verify(tampered, msg) === verifyStrict(tampered, msg, pk) && verify(tampered, msg) === false;
      }),
      { numRuns: 200 },
    );
  });

  it('refuses S + L (and any S >= L) and a non-canonical R', () => {
    const { secretKey, publicKey } = generateKeyPair();
    const msg = new TextEncoder().encode('submission');
    const sig = sign(msg, secretKey);
    const verify = verifierFor(publicKey);
    const s = fromLe(sig.subarray(32));
    for (const bad of [s + L, L, 2n ** 256n - 1n]) {
      const m = Uint8Array.from([...sig.subarray(0, 32), ...le(bad)]);
      expect(verify(m, msg)).toBe(false);
      expect(verifyStrict(m, msg, publicKey)).toBe(false);
    }
    // R with y >= p: non-canonical; the strict reference refuses it, and so must we.
    const nonCanonicalR = Uint8Array.from([...hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'), ...sig.subarray(32)]);
    expect(verify(nonCanonicalR, msg)).toBe(false);
    expect(verifyStrict(nonCanonicalR, msg, publicKey)).toBe(false);
  });

  it('refuses to build a verifier for small-order or non-canonical keys, and hostile signatures', () => {
    const identity = new Uint8Array(32);
    identity[0] = 1;
    for (const pk of [identity, hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f'), hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')]) {
      expect(() => verifierFor(pk)).toThrow(RangeError);
    }
    expect(() => verifierFor('ab' as never)).toThrow(TypeError);
    const verify = verifierFor(generateKeyPair().publicKey);
    for (const bad of [new Uint8Array(63), new Uint8Array(65), 'x'.repeat(64), null]) expect(verify(bad as never, new Uint8Array(1))).toBe(false);
    expect(() => signerFor(new Uint8Array(31))).toThrow(RangeError);
  });
});
