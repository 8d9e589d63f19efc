/**
 * Production keys by ceremony (docs/keys.md): a public powers-of-tau file (its blake2b-512
 * checked against the published Hermez hashes), then phase-2 contributions by independent
 * participants, then a public random beacon, then `zkey verify` from the r1cs and the ptau.
 * Every step is stock snarkjs; this module sequences the steps, keeps the transcript and
 * refuses unsafe shortcuts (an unchecked ptau, finalising without a contribution).
 *
 * The steps run from the CLI, possibly on different machines, one participant at a time:
 *   npm run setup -- --config production --mode ceremony --step init --ptau FILE
 *   npm run setup -- --config production --mode ceremony --step contribute --name "Alice"
 *   npm run setup -- --config production --mode ceremony --step finalize --beacon HEX
 * @module
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import { checkPtau } from '../../src/keys/ptau.ts';
import * as snarkjs from 'snarkjs';
import { parseR1cs } from '../../src/crypto/r1cs.ts';
import { MANIFEST_PATH, PROJECT_ROOT, artifactPaths, readManifest, sha256File, sourceHashes, type Contribution } from '../../src/prover/artifacts.ts';
import { CIRCUIT_NAMES, writeMain } from './build-circuits.ts';
import { compileCircuit } from './circom.ts';
import { PUBLIC_SIGNALS } from './ensure-artifacts.ts';

export interface Transcript {
  ptau: { path: string; blake2b: string; power: number };
  r1cs: string;
  /** zkey files in order: 0000 is zkey new's, each later one adds a contribution. */
  steps: Array<{ file: string; name: string; hash: string }>;
}

const transcriptPath = (dir: string) => join(dir, 'transcript.json');
async function readTranscript(dir: string): Promise<Transcript> {
  return JSON.parse(await readFile(transcriptPath(dir), 'utf8')) as Transcript;
}
async function writeTranscript(dir: string, t: Transcript): Promise<void> {
  await writeFile(`${transcriptPath(dir)}.tmp`, JSON.stringify(t, null, 2) + '\n');
  await rename(`${transcriptPath(dir)}.tmp`, transcriptPath(dir));
}

/** Step 1: check the ptau and create the initial key (no contribution yet) in `dir`. */
export async function ceremonyInit(opts: { r1csPath: string; ptauPath: string; ptauHash?: string; dir: string }): Promise<Transcript> {
  const ptau = await checkPtau(opts.ptauPath, opts.ptauHash);
  await mkdir(opts.dir, { recursive: true });
  const file = join(opts.dir, '0000.zkey');
  const csHash = await snarkjs.zKey.newZKey!(opts.r1csPath, opts.ptauPath, file);
  if (!csHash || csHash === -1) throw new Error('snarkjs zkey new failed (is the ptau large enough for the circuit?)');
  const t: Transcript = { ptau: { path: opts.ptauPath, ...ptau }, r1cs: opts.r1csPath, steps: [{ file, name: 'zkey new', hash: '' }] };
  await writeTranscript(opts.dir, t);
  return t;
}

/**
 * Step 2 (repeat per participant): one phase-2 contribution with fresh OS randomness
 * (plus optional participant text), recorded in the transcript.
 * @returns the contribution hash, which the participant should publish.
 */
export async function ceremonyContribute(opts: { dir: string; name: string; entropy?: string }): Promise<string> {
  const t = await readTranscript(opts.dir);
  const prev = t.steps.at(-1)!.file;
  const file = join(opts.dir, `${String(t.steps.length).padStart(4, '0')}.zkey`);
  const entropy = randomBytes(64).toString('hex') + (opts.entropy ?? '');
  const hash: Uint8Array = await snarkjs.zKey.contribute!(prev, file, opts.name, entropy);
  t.steps.push({ file, name: opts.name, hash: Buffer.from(hash).toString('hex') });
  await writeTranscript(opts.dir, t);
  return Buffer.from(hash).toString('hex');
}

/**
 * Step 3: the public beacon, then `zkey verify` against the r1cs and the ptau.
 * @throws Error if nobody has contributed yet, or verification fails.
 */
export async function ceremonyFinalize(opts: { dir: string; beaconHex: string; iterationsExp?: number; zkeyOut: string }): Promise<{ vkey: unknown; contributions: Contribution[]; transcript: Transcript }> {
  const t = await readTranscript(opts.dir);
  if (t.steps.length < 2) throw new Error('refusing to finalise: no phase-2 contribution yet');
  if (!/^[0-9a-fA-F]{2,254}$/.test(opts.beaconHex) || opts.beaconHex.length % 2) throw new Error('beacon must be an even-length hex string of at most 127 bytes');
  const iterationsExp = opts.iterationsExp ?? 10;
  if (!Number.isInteger(iterationsExp) || iterationsExp < 10 || iterationsExp > 63) throw new Error('beacon iterations exponent must be in [10, 63]');
  const file = join(opts.dir, 'final.zkey');
  const hash: Uint8Array | false = await snarkjs.zKey.beacon!(t.steps.at(-1)!.file, file, 'final beacon', opts.beaconHex, iterationsExp);
  if (!hash) throw new Error('snarkjs zkey beacon failed');
  t.steps.push({ file, name: 'final beacon', hash: Buffer.from(hash).toString('hex') });
  const ok: boolean = await snarkjs.zKey.verifyFromR1cs!(t.r1cs, t.ptau.path, file);
  if (!ok) throw new Error('zkey verify failed: the key does not follow from the r1cs and the ptau');
  await copyFile(file, `${opts.zkeyOut}.tmp`);
  await rename(`${opts.zkeyOut}.tmp`, opts.zkeyOut);
  await writeTranscript(opts.dir, t);
  const vkey = await snarkjs.zKey.exportVerificationKey!(opts.zkeyOut);
  return { vkey, transcript: t, contributions: t.steps.slice(1).map((s) => ({ name: s.name, hash: s.hash })) };
}

/** The CLI of `npm run setup -- --mode ceremony --step ...` for every circuit of a configuration. */
export async function runCeremony(config: string, args: string[], log: (m: string) => void): Promise<void> {
  const opt = (name: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const step = opt('step');
  for (const circuit of CIRCUIT_NAMES) {
    const paths = artifactPaths(config, circuit);
    const dir = join(PROJECT_ROOT, 'build', config, 'ceremony', circuit);
    if (step === 'init') {
      const ptau = opt('ptau');
      if (!ptau) throw new Error('--ptau FILE is required');
      const main = await writeMain(circuit, config);
      if (!existsSync(paths.r1cs)) await compileCircuit(main, join(PROJECT_ROOT, 'build', config));
      log(`${circuit}: checking the ptau and creating the initial key`);
      await ceremonyInit({ r1csPath: paths.r1cs, ptauPath: ptau, ptauHash: opt('ptau-hash'), dir });
    } else if (step === 'contribute') {
      const name = opt('name');
      if (!name) throw new Error('--name is required');
      const hash = await ceremonyContribute({ dir, name, entropy: opt('entropy') });
      log(`${circuit}: contribution by ${name}: ${hash}`);
    } else if (step === 'finalize') {
      const beacon = opt('beacon');
      if (!beacon) throw new Error('--beacon HEX is required (a public random value fixed in advance)');
      const { vkey, contributions, transcript } = await ceremonyFinalize({ dir, beaconHex: beacon, iterationsExp: Number(opt('iterations') ?? 10), zkeyOut: paths.zkey });
      await mkdir(join(PROJECT_ROOT, 'artifacts', config), { recursive: true });
      await writeFile(paths.vkey, JSON.stringify(vkey, null, 2) + '\n');
      const m = readManifest();
      const conf = (m.configurations[config] ??= { mode: 'ceremony', circuits: {} });
      conf.mode = 'ceremony';
      delete conf.seed;
      conf.ptau = { blake2b: transcript.ptau.blake2b, power: transcript.ptau.power, name: relative(PROJECT_ROOT, transcript.ptau.path) };
      conf.circuits[circuit] = {
        constraints: parseR1cs(new Uint8Array(await readFile(paths.r1cs))).constraints.length,
        publicSignals: [...PUBLIC_SIGNALS[circuit]],
        sources: sourceHashes(paths.main),
        r1cs: sha256File(paths.r1cs),
        wasm: sha256File(paths.wasm),
        zkey: sha256File(paths.zkey),
        vkey: sha256File(paths.vkey),
        contributions,
      };
      await writeFile(MANIFEST_PATH, JSON.stringify(m, null, 2) + '\n');
      log(`${circuit}: verified and recorded (${contributions.length} contributions including the beacon)`);
    } else {
      throw new Error('--step must be init, contribute or finalize');
    }
  }
}
