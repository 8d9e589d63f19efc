/**
 * Circuit artifacts and their manifest. `artifacts/manifest.json` (committed) records, per
 * configuration and circuit, the sha256 of the circuit's sources, r1cs, wasm, proving key
 * (zkey) and verification key, how the key was made (development seed or ceremony) and its
 * phase-2 contributions. The loader refuses any file whose hash differs, and any proving key
 * without a phase-2 contribution: with delta = 1 anyone can forge proofs.
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { readSections, viewOf } from '../crypto/binfile.ts';
import { descriptorOfManifest, keySetHash, type KeySetDescriptor } from '../crypto/key-set.ts';
import { BUILD_DIR, PACKAGE_ROOT, packageFile } from '../package-root.ts';

export const PROJECT_ROOT = PACKAGE_ROOT;
export const MANIFEST_PATH = join(PROJECT_ROOT, 'artifacts', 'manifest.json');

export interface Contribution {
  name: string;
  /** The contribution hash snarkjs prints (blake2b-512, hex). */
  hash: string;
}

export interface CircuitEntry {
  constraints: number;
  publicSignals: string[];
  /** sha256 of each source file (paths relative to the repository root). */
  sources: Record<string, string>;
  r1cs: string;
  wasm: string;
  zkey: string;
  vkey: string;
  contributions: Contribution[];
}

export interface ConfigurationEntry {
  mode: 'dev' | 'ceremony';
  /** The hash of the key set these keys form (src/crypto/key-set.ts). */
  keySetHash?: string;
  /** Development keys only: the public seed they are derived from. */
  seed?: string;
  /** Ceremony keys only: the powers-of-tau file's blake2b-512 and power. */
  ptau?: { blake2b: string; power: number; name?: string };
  circuits: Record<string, CircuitEntry>;
}

export interface Manifest {
  version: 1;
  configurations: Record<string, ConfigurationEntry>;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * The circom sources a file depends on, itself and every include transitively, by their path
 * relative to the package root (circomlib's as "node_modules/circomlib/...", wherever it is
 * installed: src/package-root.ts), each with its absolute path.
 */
export function circuitSources(mainPath: string): Map<string, string> {
  const seen = new Map<string, string>();
  // Paths as in a checkout (`at`), read from where the file really is (packageFile).
  const visit = (at: string) => {
    const name = relative(PROJECT_ROOT, at);
    if (seen.has(name)) return;
    const file = packageFile(name);
    seen.set(name, file);
    for (const m of readFileSync(file, 'utf8').matchAll(/include\s+"([^"]+)"/g)) {
      const inc = resolve(dirname(at), m[1]!);
      if (existsSync(packageFile(relative(PROJECT_ROOT, inc)))) visit(inc);
    }
  };
  visit(resolve(mainPath));
  return new Map([...seen].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function sourceHashes(mainPath: string): Record<string, string> {
  return Object.fromEntries([...circuitSources(mainPath)].map(([name, file]) => [name, sha256File(file)]));
}

/** A manifest's source file under `root` (the package's own: circomlib wherever it is). */
const sourceFile = (root: string, file: string) => (root === PROJECT_ROOT ? packageFile(file) : join(root, file));

export function readManifest(path = MANIFEST_PATH): Manifest {
  if (!existsSync(path)) return { version: 1, configurations: {} };
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

/** Where a configuration's built files live. */
export function artifactPaths(config: string, circuit: string, root = PROJECT_ROOT) {
  // The package's own builds go to its build folder (src/package-root.ts); another root's to its build/.
  const build = join(root === PROJECT_ROOT ? BUILD_DIR : join(root, 'build'), config);
  return {
    main: join(root, 'circuits', 'main', config, `${circuit}.circom`),
    r1cs: join(build, `${circuit}.r1cs`),
    wasm: join(build, `${circuit}.wasm`),
    zkey: join(build, `${circuit}.zkey`),
    vkey: join(root, 'artifacts', config, `${circuit}.vkey.json`),
  };
}

/** Error thrown when an artifact is missing, altered or unsafe. */
export class ArtifactError extends Error {
  override name = 'ArtifactError';
}

/**
 * Reads the phase-2 facts of a .zkey: its number of contributions and whether delta_1 is
 * still the G1 generator (a key straight out of `zkey new`).
 * @throws ArtifactError if the file is not a Groth16 zkey.
 */
export function zkeyPhase2(bytes: Uint8Array): { contributions: number; deltaIsGenerator: boolean } {
  let sections: Map<number, Uint8Array>;
  try {
    sections = readSections(bytes, 'zkey');
  } catch (e) {
    throw new ArtifactError((e as Error).message);
  }
  const header = sections.get(1);
  const groth = sections.get(2);
  const mpc = sections.get(10);
  if (header === undefined || groth === undefined || mpc === undefined || header.byteLength < 4 || viewOf(header).getUint32(0, true) !== 1) {
    throw new ArtifactError('not a Groth16 zkey with phase-2 parameters');
  }
  // Section 2: n8q, q, n8r, r, nVars, nPublic, domainSize, alpha1, beta1, beta2, gamma2, delta1, delta2.
  const gv = viewOf(groth);
  const n8q = gv.getUint32(0, true);
  const n8r = gv.getUint32(4 + n8q, true);
  const points = 4 + n8q + 4 + n8r + 12;
  const delta1 = groth.subarray(points + 2 * n8q * 2 + 2 * (n8q * 4), points + 2 * n8q * 2 + 2 * (n8q * 4) + 2 * n8q);
  // The G1 generator (1, 2) in little-endian Montgomery form.
  const deltaIsGenerator = Buffer.from(delta1).equals(Buffer.from(G1_GENERATOR_LEM, 'hex'));
  const contributions = viewOf(mpc).getUint32(64, true);
  return { contributions, deltaIsGenerator };
}

// The G1 generator (1, 2) as snarkjs stores points: affine, each coordinate in Montgomery
// form (x * 2^256 mod q), 32 bytes little-endian.
const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const lem = (x: bigint) => {
  let v = (x << 256n) % Q;
  let hex = '';
  for (let i = 0; i < 32; i++, v >>= 8n) hex += (v & 0xffn).toString(16).padStart(2, '0');
  return hex;
};
const G1_GENERATOR_LEM = lem(1n) + lem(2n);

let warnedInsecure = false;

export interface LoadedCircuit {
  config: string;
  circuit: string;
  mode: 'dev' | 'ceremony';
  entry: CircuitEntry;
  wasmPath: string;
  zkeyPath: string;
  vkey: unknown;
}

/**
 * Checks a built circuit against the manifest and returns its paths and verification key.
 * @throws ArtifactError naming the file if any hash differs from the manifest, a file is
 *   missing, or the proving key has no phase-2 contribution.
 */
export async function loadCircuitArtifacts(config: string, circuit: string, opts: { root?: string; manifest?: Manifest; quiet?: boolean } = {}): Promise<LoadedCircuit> {
  const root = opts.root ?? PROJECT_ROOT;
  const manifest = opts.manifest ?? readManifest(join(root, 'artifacts', 'manifest.json'));
  const conf = manifest.configurations[config];
  const entry = conf?.circuits[circuit];
  if (!conf || !entry) throw new ArtifactError(`artifacts/manifest.json has no ${config}/${circuit}: run npm run setup -- --config ${config}`);
  const paths = artifactPaths(config, circuit, root);
  for (const [file, want] of Object.entries(entry.sources)) {
    const abs = sourceFile(root, file);
    if (!existsSync(abs) || sha256File(abs) !== want) throw new ArtifactError(`${file} differs from the manifest (sources of ${config}/${circuit})`);
  }
  for (const k of ['r1cs', 'wasm', 'zkey', 'vkey'] as const) {
    const p = paths[k];
    if (!existsSync(p)) throw new ArtifactError(`${relative(root, p)} is missing: run npm run setup -- --config ${config}`);
    if (sha256File(p) !== entry[k]) throw new ArtifactError(`${relative(root, p)} differs from its sha256 in artifacts/manifest.json`);
  }
  const phase2 = zkeyPhase2(new Uint8Array(await readFile(paths.zkey)));
  if (phase2.contributions === 0 || phase2.deltaIsGenerator) {
    throw new ArtifactError(`${relative(root, paths.zkey)} has no phase-2 contribution: such a key allows forged proofs`);
  }
  if (conf.mode === 'dev' && !opts.quiet && !warnedInsecure) {
    warnedInsecure = true;
    process.emitWarning(`zktrust: ${config} circuits use INSECURE development keys (public seed): proofs can be forged; never use them in production`);
  }
  return { config, circuit, mode: conf.mode, entry, wasmPath: paths.wasm, zkeyPath: paths.zkey, vkey: JSON.parse(await readFile(paths.vkey, 'utf8')) };
}

/** A configuration's compiled circuit files, checked against the manifest (keys apart). */
export interface CompiledCircuitFiles {
  r1csPath: string;
  wasmPath: string;
  /** sha256 of the r1cs. */
  r1cs: string;
  constraints: number;
}

/**
 * The compiled circuits of a configuration: sources, r1cs and wasm as the manifest records
 * them. The keys are a separate matter (a key set, src/keys).
 * @throws ArtifactError naming the file that is missing or differs.
 */
export function compiledCircuits(config: string, opts: { root?: string; manifest?: Manifest } = {}): Record<string, CompiledCircuitFiles> {
  const root = opts.root ?? PROJECT_ROOT;
  const manifest = opts.manifest ?? readManifest(join(root, 'artifacts', 'manifest.json'));
  const conf = manifest.configurations[config];
  if (!conf) throw new ArtifactError(`artifacts/manifest.json has no configuration ${config}: run npm run setup -- --config ${config}`);
  const out: Record<string, CompiledCircuitFiles> = {};
  for (const [circuit, entry] of Object.entries(conf.circuits)) {
    for (const [file, want] of Object.entries(entry.sources)) {
      const abs = sourceFile(root, file);
      if (!existsSync(abs) || sha256File(abs) !== want) throw new ArtifactError(`${file} differs from the manifest (sources of ${config}/${circuit})`);
    }
    const paths = artifactPaths(config, circuit, root);
    for (const k of ['r1cs', 'wasm'] as const) {
      if (!existsSync(paths[k])) throw new ArtifactError(`${relative(root, paths[k])} is missing: run npm run setup -- --config ${config}`);
      if (sha256File(paths[k]) !== entry[k]) throw new ArtifactError(`${relative(root, paths[k])} differs from its sha256 in artifacts/manifest.json`);
    }
    out[circuit] = { r1csPath: paths.r1cs, wasmPath: paths.wasm, r1cs: entry.r1cs, constraints: entry.constraints };
  }
  return out;
}

/**
 * The key set descriptor of the keys the manifest records for a configuration (development
 * keys, or a ceremony's recorded in the manifest), with the committed verification keys.
 * @throws ArtifactError if the configuration is missing or a verification key is unreadable.
 */
export function manifestKeySet(config: string, policyHash: string, opts: { root?: string; manifest?: Manifest } = {}): { descriptor: KeySetDescriptor; hash: string; verificationKeys: Record<string, unknown> } {
  const root = opts.root ?? PROJECT_ROOT;
  const manifest = opts.manifest ?? readManifest(join(root, 'artifacts', 'manifest.json'));
  const conf = manifest.configurations[config];
  if (!conf) throw new ArtifactError(`artifacts/manifest.json has no configuration ${config}`);
  const verificationKeys: Record<string, unknown> = {};
  for (const circuit of Object.keys(conf.circuits)) verificationKeys[circuit] = JSON.parse(readFileSync(artifactPaths(config, circuit, root).vkey, 'utf8')) as unknown;
  let descriptor: KeySetDescriptor;
  try {
    descriptor = descriptorOfManifest(config, conf, verificationKeys, policyHash);
  } catch (e) {
    throw new ArtifactError(`artifacts/manifest.json, configuration ${config}: ${(e as Error).message}`);
  }
  const hash = keySetHash(descriptor);
  if (conf.keySetHash !== undefined && conf.keySetHash !== hash) throw new ArtifactError(`artifacts/manifest.json: the key set hash of ${config} is not the hash of its keys`);
  return { descriptor, hash, verificationKeys };
}
