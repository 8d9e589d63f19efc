/**
 * The committed manifest: both configurations are present with their verification keys,
 * constraint counts are pinned (a dropped constraint shows up here in review), and the
 * committed verification keys hash to what the manifest records.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, readManifest, sha256File } from '../../src/prover/artifacts.ts';
import { BATCH_PUBLIC_SIGNALS } from '../../src/state/batch.ts';
import { THRESHOLD_PUBLIC_SIGNALS } from '../../src/state/threshold-input.ts';

const manifest = readManifest();
const PINNED: Record<string, Record<string, number>> = {
  test: { 'batch-update': 29_561, threshold: 2_345 },
  production: { 'batch-update': 129_066, threshold: 4_480 },
  'ceremony-test': { 'batch-update': 8_765, threshold: 1_735 },
};

describe('artifacts/manifest.json', () => {
  it.each(Object.keys(PINNED).map((c) => [c]))('%s: constraint counts, public signals and committed verification keys', (config) => {
    const conf = manifest.configurations[config]!;
    expect(conf.mode).toBe('dev');
    expect(conf.keySetHash).toMatch(/^[0-9a-f]{64}$/);
    for (const [circuit, constraints] of Object.entries(PINNED[config]!)) {
      const entry = conf.circuits[circuit]!;
      expect(entry.constraints).toBe(constraints);
      expect(entry.publicSignals).toEqual(circuit === 'threshold' ? [...THRESHOLD_PUBLIC_SIGNALS] : [...BATCH_PUBLIC_SIGNALS]);
      const vkeyPath = join(PROJECT_ROOT, 'artifacts', config, `${circuit}.vkey.json`);
      expect(sha256File(vkeyPath)).toBe(entry.vkey);
      expect(JSON.parse(readFileSync(vkeyPath, 'utf8')).nPublic).toBe(entry.publicSignals.length);
      expect(entry.contributions.length).toBeGreaterThanOrEqual(1);
    }
  });
});
