/**
 * Builds a configuration's circuits and development keys when they are missing or stale,
 * and keeps artifacts/manifest.json in step. Used by `npm run setup`, by the test suite's
 * global setup and by the service's first start.
 *
 * With `update: false` (tests, service) the committed manifest is the reference: sources
 * must match it, and rebuilt files must hash to exactly what it records (development keys
 * are reproducible), so a build that is not reproducible fails loudly instead of testing
 * other keys than the committed verification keys.
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile, rename, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseR1cs } from '../crypto/r1cs.ts';
import {
  ArtifactError,
  MANIFEST_PATH,
  manifestKeySet,
  PROJECT_ROOT,
  artifactPaths,
  readManifest,
  sha256File,
  sourceHashes,
  type CircuitEntry,
  type Manifest,
} from '../prover/artifacts.ts';
import { CIRCUIT_POLICY, policyHash } from '../crypto/score-policy.ts';
import { BATCH_PUBLIC_SIGNALS } from '../state/batch.ts';
import { THRESHOLD_PUBLIC_SIGNALS } from '../state/threshold-input.ts';
import { CIRCUIT_NAMES, writeMain, type CircuitName } from './build-circuits.ts';
import { compileCircuit } from './circom.ts';
import { DEV_BEACON_NAME, devSetup } from './dev-zkey.ts';

/** The public seed of every development key. Public on purpose: these keys are insecure. */
export const DEV_SEED = 'zktrust-insecure-development-seed-v1';

export const PUBLIC_SIGNALS: Record<CircuitName, readonly string[]> = {
  'batch-update': BATCH_PUBLIC_SIGNALS,
  threshold: THRESHOLD_PUBLIC_SIGNALS,
};

export interface EnsureOptions {
  /** Rewrite the manifest when sources changed (npm run setup); otherwise refuse. */
  update?: boolean;
  /** A line per step: compiling, compiled (constraints, time), keys done. */
  onProgress?: (msg: string) => void;
  /**
   * Build and check the development keys too (default). Without them only the circuits are
   * compiled and checked: a service that proves with its own keys needs no development keys.
   */
  devKeys?: boolean;
  /** Counts within key generation, for progress bars: `phase` (e.g. "G1 points") done of total. */
  onKeyProgress?: (circuit: string, phase: string, done: number, total: number) => void;
}

async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(`${path}.tmp`, JSON.stringify(value, null, 2) + '\n');
  await rename(`${path}.tmp`, path);
}

function builtMatches(entry: CircuitEntry | undefined, paths: ReturnType<typeof artifactPaths>, withKeys = true): boolean {
  if (!entry) return false;
  return (withKeys ? (['r1cs', 'wasm', 'zkey', 'vkey'] as const) : (['r1cs', 'wasm'] as const)).every((k) => existsSync(paths[k]) && sha256File(paths[k]) === entry[k]);
}

/**
 * Makes sure every circuit of `config` is compiled and has development keys that match the
 * manifest; builds what is missing.
 * @throws ArtifactError if sources changed (without `update`) or a rebuild is not reproducible.
 */
export async function ensureArtifacts(config: string, opts: EnsureOptions = {}): Promise<Manifest> {
  const log = opts.onProgress ?? (() => {});
  const withKeys = opts.devKeys ?? true;
  if (!withKeys && opts.update) throw new Error('ensureArtifacts: update needs the development keys');
  const manifest = readManifest();
  const conf = manifest.configurations[config];
  if (conf && conf.mode !== 'dev') {
    // Ceremony keys are never rebuilt here: only checked.
    return manifest;
  }
  for (const circuit of CIRCUIT_NAMES) {
    const main = await writeMain(circuit, config);
    const paths = artifactPaths(config, circuit);
    const sources = sourceHashes(main);
    const entry = conf?.circuits[circuit];
    const sourcesMatch = !!entry && JSON.stringify(entry.sources) === JSON.stringify(sources);
    if (sourcesMatch && builtMatches(entry, paths, withKeys)) continue;
    if (!sourcesMatch && !opts.update) {
      throw new ArtifactError(`${config}/${circuit}: circuit sources differ from artifacts/manifest.json; run npm run setup -- --config ${config} and commit the manifest`);
    }
    const t0 = performance.now();
    log(`${config}/${circuit}: compiling`);
    await compileCircuit(main, dirname(paths.r1cs));
    const r1cs = parseR1cs(new Uint8Array(await readFile(paths.r1cs)));
    if (!withKeys) {
      log(`${config}/${circuit}: ${r1cs.constraints.length} constraints, compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      if (!builtMatches(entry, paths, false)) throw new ArtifactError(`${config}/${circuit}: the compiled circuit differs from artifacts/manifest.json (the build is not reproducible here)`);
      continue;
    }
    log(`${config}/${circuit}: ${r1cs.constraints.length} constraints, compiled in ${((performance.now() - t0) / 1000).toFixed(1)} s; generating development keys`);
    const t1 = performance.now();
    let lastPct = -10;
    const { vkey, contributionHash } = await devSetup({
      r1csPath: paths.r1cs,
      zkeyPath: paths.zkey,
      seed: DEV_SEED,
      onProgress: (phase, done, total) => {
        opts.onKeyProgress?.(`${config}/${circuit}`, phase, done, total);
        const pct = Math.floor((100 * done) / total);
        if (pct >= lastPct + 25 || pct === 100) {
          lastPct = pct === 100 ? -10 : pct;
          log(`${config}/${circuit}: keys: ${phase} ${pct}%`);
        }
      },
    });
    await writeJsonAtomic(paths.vkey, vkey);
    log(`${config}/${circuit}: keys in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
    const built: CircuitEntry = {
      constraints: r1cs.constraints.length,
      publicSignals: [...PUBLIC_SIGNALS[circuit]],
      sources,
      r1cs: sha256File(paths.r1cs),
      wasm: sha256File(paths.wasm),
      zkey: sha256File(paths.zkey),
      vkey: sha256File(paths.vkey),
      contributions: [{ name: DEV_BEACON_NAME, hash: contributionHash }],
    };
    if (sourcesMatch && !opts.update && !builtMatches(entry, paths)) {
      throw new ArtifactError(`${config}/${circuit}: rebuilt artifacts differ from artifacts/manifest.json (the development build is not reproducible here)`);
    }
    const m = readManifest();
    m.configurations[config] ??= { mode: 'dev', seed: DEV_SEED, circuits: {} };
    m.configurations[config]!.mode = 'dev';
    m.configurations[config]!.seed = DEV_SEED;
    m.configurations[config]!.circuits[circuit] = built;
    await writeJsonAtomic(MANIFEST_PATH, m);
  }
  if (!withKeys) return readManifest();
  // The key set these development keys form: recorded, and checked against what is recorded.
  const m = readManifest();
  const { hash } = manifestKeySet(config, policyHash(CIRCUIT_POLICY).toString(), { manifest: { ...m, configurations: { ...m.configurations, [config]: { ...m.configurations[config]!, keySetHash: undefined } } } });
  if (m.configurations[config]!.keySetHash !== hash) {
    if (!opts.update && m.configurations[config]!.keySetHash !== undefined) throw new ArtifactError(`${config}: the key set hash in artifacts/manifest.json is not the hash of its keys`);
    if (!opts.update) throw new ArtifactError(`${config}: artifacts/manifest.json records no key set hash; run npm run setup -- --config ${config} and commit the manifest`);
    m.configurations[config]!.keySetHash = hash;
    await writeJsonAtomic(MANIFEST_PATH, m);
  }
  return readManifest();
}

export { PROJECT_ROOT, join };
