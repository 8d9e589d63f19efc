/**
 * Strict Ed25519 (RFC 8032 test vectors, forged and malleated signatures, small-order and
 * non-canonical keys), canonical signing bytes, and problem+json errors.
 */
import { describe, expect, it } from 'vitest';
import * as ed from '@noble/ed25519';
import { canonicalJson, signingBytes } from '../../src/crypto/canonical.ts';
import { assertValidPublicKey, generateKeyPair, publicKeyOf, sign, verifyStrict } from '../../src/crypto/ed25519.ts';
import { ZkTrustError, toProblem } from '../../src/errors.ts';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

describe('Ed25519, strict', () => {
  it('RFC 8032 section 7.1, tests 1 and 2', () => {
    const v = [
      {
        sk: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
        pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
        msg: '',
        sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
      },
      {
        sk: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
        pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
        msg: '72',
        sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
      },
    ];
    for (const t of v) {
      expect(Buffer.from(publicKeyOf(hex(t.sk))).toString('hex')).toBe(t.pk);
      expect(Buffer.from(sign(hex(t.msg), hex(t.sk))).toString('hex')).toBe(t.sig);
      expect(verifyStrict(hex(t.sig), hex(t.msg), hex(t.pk))).toBe(true);
    }
  });

  it('refuses a forged signature, another key, another message and S + L', () => {
    const { secretKey, publicKey } = generateKeyPair();
    const other = generateKeyPair();
    const msg = new TextEncoder().encode('records');
    const sig = sign(msg, secretKey);
    expect(verifyStrict(sig, msg, publicKey)).toBe(true);
    const forged = Uint8Array.from(sig);
    forged[10] = forged[10]! ^ 1;
    expect(verifyStrict(forged, msg, publicKey)).toBe(false);
    expect(verifyStrict(sig, msg, other.publicKey)).toBe(false);
    expect(verifyStrict(sig, new TextEncoder().encode('records!'), publicKey)).toBe(false);
    // S + L: the same group element, a non-canonical scalar. ZIP-215 would accept it; RFC 8032 must not.
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(sig[i]!);
    const sl = s + L;
    const malleated = Uint8Array.from(sig);
    for (let i = 0; i < 32; i++) malleated[32 + i] = Number((sl >> BigInt(8 * i)) & 0xffn);
    expect(sl < 2n ** 256n).toBe(true);
    expect(verifyStrict(malleated, msg, publicKey)).toBe(false);
  });

  it('is cofactorless: a signature whose R has a small-order component is refused, here and by the service', async () => {
    const { verifierFor } = await import('../../src/engines/fast-ed25519.ts');
    const { sha512 } = await import('@noble/hashes/sha2.js');
    const le = (b: Uint8Array) => b.reduceRight((x, v) => (x << 8n) | BigInt(v), 0n);
    const toLe = (x: bigint) => Uint8Array.from({ length: 32 }, (_, i) => Number((x >> BigInt(8 * i)) & 0xffn));
    const { secretKey, publicKey } = generateKeyPair();
    const { scalar: a } = ed.utils.getExtendedPublicKey(secretKey);
    const msg = new TextEncoder().encode('a submission');
    // A point of order 8, one of the eight small-order points.
    const t8 = ed.Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa');
    expect(t8.multiplyUnsafe(4n).is0()).toBe(false);
    expect(t8.multiplyUnsafe(8n).is0()).toBe(true);
    const r = 123456789n;
    const R = ed.Point.BASE.multiply(r).add(t8).toBytes();
    const k = ed.etc.mod(le(sha512(ed.etc.concatBytes(R, publicKey, msg))), L);
    const sig = ed.etc.concatBytes(R, toLe(ed.etc.mod(r + k * a, L)));
    // The cofactored equation holds: noble's own check (either mode) accepts it.
    expect(ed.verify(sig, msg, publicKey, { zip215: false })).toBe(true);
    // zktrust's two verifiers refuse it alike.
    expect(verifyStrict(sig, msg, publicKey)).toBe(false);
    expect(verifierFor(publicKey)(sig, msg)).toBe(false);
    // An honest signature passes both.
    const honest = sign(msg, secretKey);
    expect(verifyStrict(honest, msg, publicKey)).toBe(true);
    expect(verifierFor(publicKey)(honest, msg)).toBe(true);
  });

  it('refuses small-order and non-canonical public keys', () => {
    // The identity (0, 1) and the point of order 2 (0, -1) are small-order encodings.
    const identity = new Uint8Array(32);
    identity[0] = 1;
    const order2 = hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    for (const pk of [identity, order2]) {
      expect(() => assertValidPublicKey(pk)).toThrow(/small-order/);
      expect(ed.Point.fromBytes(pk).isSmallOrder()).toBe(true);
    }
    // A signature that verifies under the identity key with ZIP-215-style laxness: R = identity, S = 0.
    const lax = new Uint8Array(64);
    lax[0] = 1;
    expect(verifyStrict(lax, new Uint8Array([1, 2, 3]), identity)).toBe(false);
    // y >= p is not canonical.
    const nonCanonical = hex('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f');
    expect(() => assertValidPublicKey(nonCanonical)).toThrow(RangeError);
    expect(() => assertValidPublicKey(generateKeyPair().publicKey)).not.toThrow();
  });

  it('throws TypeError or RangeError on hostile inputs', () => {
    const { publicKey } = generateKeyPair();
    for (const bad of [null, 5, 'ab', Symbol('x'), [1, 2], { length: 64 }]) {
      expect(() => verifyStrict(bad as never, new Uint8Array(1), publicKey)).toThrow(TypeError);
      expect(() => assertValidPublicKey(bad)).toThrow(TypeError);
    }
    expect(() => verifyStrict(new Uint8Array(63), new Uint8Array(1), publicKey)).toThrow(RangeError);
    expect(() => assertValidPublicKey(new Uint8Array(31))).toThrow(RangeError);
  });
});

describe('canonical signing bytes', () => {
  it('sorts keys, drops undefined, encodes bigints as strings, and separates message types', () => {
    expect(canonicalJson({ b: 1, a: [2n, 'x', null, true], c: undefined })).toBe('{"a":["2","x",null,true],"b":1}');
    expect(new TextDecoder().decode(signingBytes('submission', { z: 1, a: 2 }))).toBe('zktrust/v1/submission\n{"a":2,"z":1}');
    expect(signingBytes('submission', { a: 1 })).not.toEqual(signingBytes('threshold-request', { a: 1 }));
  });

  it('refuses values that have no canonical form', () => {
    for (const bad of [NaN, Infinity, new Date(0), new Map(), Symbol('s'), () => 1, new Uint8Array(2)]) expect(() => canonicalJson({ a: bad })).toThrow();
    expect(() => signingBytes('Bad Type', {})).toThrow(RangeError);
  });
});

describe('problem+json', () => {
  it('keeps the code and status of a ZkTrustError and hides anything else', () => {
    expect(toProblem(new ZkTrustError('replayed_nonce', 'nonce used'))).toMatchObject({ status: 409, code: 'replayed_nonce', detail: 'nonce used' });
    const p = toProblem(new Error('secret stack details /etc/passwd'));
    expect(p).toMatchObject({ status: 500, code: 'internal' });
    expect(JSON.stringify(p)).not.toMatch(/passwd|stack/);
  });
});
