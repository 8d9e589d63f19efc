/**
 * Key set descriptors (src/crypto/key-set.ts): the hash is stable and covers every field;
 * a mode must agree with its phase 1; hostile input is refused with TypeError or RangeError;
 * the manifest's recorded key set hashes are the hashes of its keys; published phase 1.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FORGEABLE_BY, KEY_MODES, PUBLISHED_PTAU_BLAKE2B, descriptorOfManifest, isPublishedPhase1, keySetHash, parseKeySetDescriptor, vkeyHash, type KeySetDescriptor } from '../../src/crypto/key-set.ts';
import { CIRCUIT_POLICY, policyHash } from '../../src/crypto/score-policy.ts';
import { PROJECT_ROOT, readManifest } from '../../src/prover/artifacts.ts';
import { BUNDLED_KEYS, isDevelopmentKey } from '../../src/verifier/keys.ts';

const H64 = 'ab'.repeat(32);
const B128 = 'cd'.repeat(64);
const base: KeySetDescriptor = {
  version: 1,
  config: 'test',
  mode: 'local',
  policyHash: '123',
  phase1: { kind: 'local' },
  circuits: { threshold: { r1cs: H64, vkey: H64, contributions: [B128] }, 'batch-update': { r1cs: H64, vkey: H64, contributions: [B128] } },
};

describe('key set descriptors', () => {
  it('hash: stable, independent of key order, and different for every changed field', () => {
    const h = keySetHash(base);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    const reordered = JSON.parse(JSON.stringify({ circuits: base.circuits, phase1: base.phase1, policyHash: base.policyHash, mode: base.mode, config: base.config, version: 1 }));
    expect(keySetHash(reordered)).toBe(h);
    const variants: KeySetDescriptor[] = [
      { ...base, config: 'production' },
      { ...base, policyHash: '124' },
      { ...base, mode: 'ceremony', phase1: { kind: 'ptau', blake2b: B128, power: 17 } },
      { ...base, circuits: { ...base.circuits, threshold: { ...base.circuits.threshold!, vkey: 'ac'.repeat(32) } } },
      { ...base, circuits: { ...base.circuits, threshold: { ...base.circuits.threshold!, r1cs: 'ac'.repeat(32) } } },
      { ...base, circuits: { ...base.circuits, threshold: { ...base.circuits.threshold!, contributions: [B128, B128] } } },
    ];
    const hashes = new Set([h, ...variants.map(keySetHash)]);
    expect(hashes.size).toBe(variants.length + 1);
  });

  it('a mode must agree with its phase 1, and a key needs a contribution', () => {
    expect(() => parseKeySetDescriptor({ ...base, mode: 'ceremony' })).toThrow(/needs phase 1 of kind ptau/);
    expect(() => parseKeySetDescriptor({ ...base, mode: 'dev' })).toThrow(/needs phase 1 of kind seed/);
    expect(() => parseKeySetDescriptor({ ...base, phase1: { kind: 'seed', seed: 's' } })).toThrow(/mode local/);
    expect(() => parseKeySetDescriptor({ ...base, circuits: { threshold: { r1cs: H64, vkey: H64, contributions: [] } } })).toThrow(/1 to 256 contributions/);
    expect(parseKeySetDescriptor({ ...base, mode: 'dev', phase1: { kind: 'seed', seed: 'x' } }).mode).toBe('dev');
  });

  it('refuses hostile input with TypeError or RangeError', () => {
    const hostile: unknown[] = [null, undefined, 5, 'x', [], Symbol('d'), -5n, new Uint8Array(3), { ...base, extra: 1 }, { ...base, version: 2 }, { ...base, mode: 'trusted' }, { ...base, config: 'Test!' },
      { ...base, policyHash: '01' }, { ...base, policyHash: -1 }, { ...base, circuits: [] }, { ...base, circuits: {} }, { ...base, circuits: { Threshold: base.circuits.threshold } },
      { ...base, circuits: { threshold: { ...base.circuits.threshold, vkey: 'AB'.repeat(32) } } }, { ...base, circuits: { threshold: { ...base.circuits.threshold, contributions: ['ab'] } } },
      { ...base, phase1: { kind: 'ptau', blake2b: B128, power: 29 } }, { ...base, phase1: { kind: 'local', more: 1 } }, { ...base, phase1: null }];
    for (const h of hostile) expect(() => parseKeySetDescriptor(h), String(typeof h)).toThrow(/./);
    for (const h of hostile) {
      try {
        parseKeySetDescriptor(h);
      } catch (e) {
        expect(e instanceof TypeError || e instanceof RangeError).toBe(true);
      }
    }
  });

  it('vkeyHash does not depend on key order or whitespace', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 3 }))), (o) => {
        const reversed = Object.fromEntries(Object.entries(o).reverse());
        expect(vkeyHash(reversed)).toBe(vkeyHash(JSON.parse(JSON.stringify(o, null, 2))));
      }),
    );
  });

  it("the manifest records the hash of each configuration's development key set, and the verifier bundles it", () => {
    const manifest = readManifest();
    for (const config of ['test', 'production', 'ceremony-test']) {
      const conf = manifest.configurations[config]!;
      const vkeys = Object.fromEntries(Object.keys(conf.circuits).map((c) => [c, JSON.parse(readFileSync(join(PROJECT_ROOT, 'artifacts', config, `${c}.vkey.json`), 'utf8'))]));
      const d = descriptorOfManifest(config, conf, vkeys, policyHash(CIRCUIT_POLICY).toString());
      expect(d.mode).toBe('dev');
      expect(keySetHash(d)).toBe(conf.keySetHash);
    }
    expect(BUNDLED_KEYS.test!.keySetHash).toBe(manifest.configurations.test!.keySetHash);
    expect(BUNDLED_KEYS.production!.keySetHash).toBe(manifest.configurations.production!.keySetHash);
    // Every development key shares the seed's alpha and beta.
    const ceremonyTestVkey = JSON.parse(readFileSync(join(PROJECT_ROOT, 'artifacts', 'ceremony-test', 'batch-update.vkey.json'), 'utf8'));
    expect(isDevelopmentKey(ceremonyTestVkey)).toBe(true);
  });

  it('published phase 1 and who can forge under each mode', () => {
    expect(Object.keys(PUBLISHED_PTAU_BLAKE2B).map(Number)).toEqual(Array.from({ length: 21 }, (_, i) => i + 8));
    expect(isPublishedPhase1({ kind: 'ptau', blake2b: PUBLISHED_PTAU_BLAKE2B[17]!, power: 17 })).toBe(true);
    expect(isPublishedPhase1({ kind: 'ptau', blake2b: PUBLISHED_PTAU_BLAKE2B[17]!, power: 18 })).toBe(false);
    expect(isPublishedPhase1({ kind: 'ptau', blake2b: B128, power: 17 })).toBe(false);
    expect(isPublishedPhase1({ kind: 'ptau', blake2b: B128, power: 17 }, [B128])).toBe(true);
    expect(isPublishedPhase1({ kind: 'local' })).toBe(false);
    expect(KEY_MODES.map((m) => FORGEABLE_BY[m])).toEqual(['anyone', 'operator', 'colluding-participants']);
  });
});
