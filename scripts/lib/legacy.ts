/**
 * Policy v1's batch circuit (circuits/legacy/v1), compiled with development keys under
 * build/legacy/v1/<config>/ when missing or when its sources changed, for the benchmark's
 * comparison of the current batch circuit with the one it replaced. Never used by the service.
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseR1cs } from '../../src/crypto/r1cs.ts';
import { sourceHashes } from '../../src/prover/artifacts.ts';
import { writeLegacyV1Batch } from '../../src/build/build-circuits.ts';
import { compileCircuit, PROJECT_ROOT } from '../../src/build/circom.ts';
import { devSetup } from '../../src/build/dev-zkey.ts';
import { DEV_SEED } from '../../src/build/ensure-artifacts.ts';

export interface LegacyCircuit {
  r1csPath: string;
  wasmPath: string;
  zkeyPath: string;
  vkey: unknown;
  constraints: number;
}

/**
 * Builds (or reuses) policy v1's batch circuit of a configuration with development keys.
 * @throws Error if the configuration has no legacy entry or the build fails.
 */
export async function ensureLegacyV1Batch(config: string, onProgress: (msg: string) => void = () => {}): Promise<LegacyCircuit> {
  const main = await writeLegacyV1Batch(config);
  const dir = join(PROJECT_ROOT, 'build', 'legacy', 'v1', config);
  const paths = { r1csPath: join(dir, 'batch-update.r1cs'), wasmPath: join(dir, 'batch-update.wasm'), zkeyPath: join(dir, 'batch-update.zkey') };
  const stamp = join(dir, 'built.json');
  const sources = JSON.stringify(sourceHashes(main));
  const built = existsSync(stamp) ? JSON.parse(await readFile(stamp, 'utf8')) as { sources: string; vkey: unknown } : undefined;
  if (!built || built.sources !== sources || !Object.values(paths).every((p) => existsSync(p))) {
    onProgress(`legacy v1 ${config}/batch-update: compiling`);
    await compileCircuit(main, dir);
    onProgress(`legacy v1 ${config}/batch-update: development keys`);
    const { vkey } = await devSetup({ r1csPath: paths.r1csPath, zkeyPath: paths.zkeyPath, seed: DEV_SEED });
    await writeFile(stamp, JSON.stringify({ sources, vkey }));
    return { ...paths, vkey, constraints: parseR1cs(new Uint8Array(await readFile(paths.r1csPath))).constraints.length };
  }
  return { ...paths, vkey: built.vkey, constraints: parseR1cs(new Uint8Array(await readFile(paths.r1csPath))).constraints.length };
}
