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
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import { blake2b } from '@noble/hashes/blake2.js';
import * as snarkjs from 'snarkjs';
import { parseR1cs } from '../../src/crypto/r1cs.ts';
import { MANIFEST_PATH, PROJECT_ROOT, artifactPaths, readManifest, sha256File, sourceHashes, type Contribution } from '../../src/prover/artifacts.ts';
import { CIRCUIT_NAMES, writeMain } from './build-circuits.ts';
import { compileCircuit } from './circom.ts';
import { PUBLIC_SIGNALS } from './ensure-artifacts.ts';

/**
 * blake2b-512 of the Hermez "powersOfTau28_hez_final_<power>.ptau" files, as published in
 * snarkjs's README (powers 8 to 28).
 */
export const HERMEZ_PTAU_BLAKE2B: Record<number, string> = {
  8: 'd6a8fb3a04feb600096c3b791f936a578c4e664d262e4aa24beed1b7a9a96aa5eb72864d628db247e9293384b74b36ffb52ca8d148d6e1b8b51e279fdf57b583',
  9: '94f108a80e81b5d932d8e8c9e8fd7f46cf32457e31462deeeef37af1b71c2c1b3c71fb0d9b59c654ec266b042735f50311f9fd1d4cadce47ab234ad163157cb5',
  10: '6cfeb8cda92453099d20120bdd0e8a5c4e7706c2da9a8f09ccc157ed2464d921fd0437fb70db42104769efd7d6f3c1f964bcf448c455eab6f6c7d863e88a5849',
  11: '47c282116b892e5ac92ca238578006e31a47e7c7e70f0baa8b687f0a5203e28ea07bbbec765a98dcd654bad618475d4661bfaec3bd9ad2ed12e7abc251d94d33',
  12: 'ded2694169b7b08e898f736d5de95af87c3f1a64594013351b1a796dbee393bd825f88f9468c84505ddd11eb0b1465ac9b43b9064aa8ec97f2b73e04758b8a4a',
  13: '58efc8bf2834d04768a3d7ffcd8e1e23d461561729beaac4e3e7a47829a1c9066d5320241e124a1a8e8aa6c75be0ba66f65bc8239a0542ed38e11276f6fdb4d9',
  14: 'eeefbcf7c3803b523c94112023c7ff89558f9b8e0cf5d6cdcba3ade60f168af4a181c9c21774b94fbae6c90411995f7d854d02ebd93fb66043dbb06f17a831c1',
  15: '982372c867d229c236091f767e703253249a9b432c1710b4f326306bfa2428a17b06240359606cfe4d580b10a5a1f63fbed499527069c18ae17060472969ae6e',
  16: '6a6277a2f74e1073601b4f9fed6e1e55226917efb0f0db8a07d98ab01df1ccf43eb0e8c3159432acd4960e2f29fe84a4198501fa54c8dad9e43297453efec125',
  17: '6247a3433948b35fbfae414fa5a9355bfb45f56efa7ab4929e669264a0258976741dfbe3288bfb49828e5df02c2e633df38d2245e30162ae7e3bcca5b8b49345',
  18: '7e6a9c2e5f05179ddfc923f38f917c9e6831d16922a902b0b4758b8e79c2ab8a81bb5f29952e16ee6c5067ed044d7857b5de120a90704c1d3b637fd94b95b13e',
  19: 'bca9d8b04242f175189872c42ceaa21e2951e0f0f272a0cc54fc37193ff6648600eaf1c555c70cdedfaf9fb74927de7aa1d33dc1e2a7f1a50619484989da0887',
  20: '89a66eb5590a1c94e3f1ee0e72acf49b1669e050bb5f93c73b066b564dca4e0c7556a52b323178269d64af325d8fdddb33da3a27c34409b821de82aa2bf1a27b',
  21: '9aef0573cef4ded9c4a75f148709056bf989f80dad96876aadeb6f1c6d062391f07a394a9e756d16f7eb233198d5b69407cca44594c763ab4a5b67ae73254678',
  22: '0d64f63dba1a6f11139df765cb690da69d9b2f469a1ddd0de5e4aa628abb28f787f04c6a5fb84a235ec5ea7f41d0548746653ecab0559add658a83502d1cb21b',
  23: '3063a0bd81d68711197c8820a92466d51aeac93e915f5136d74f63c394ee6d88c5e8016231ea6580bec02e25d491f319d92e77f5c7f46a9caa8f3b53c0ea544f',
  24: 'fa404d140d5819d39984833ca5ec3632cd4995f81e82db402371a4de7c2eae8687c62bc632a95b0c6aadba3fb02680a94e09174b7233ccd26d78baca2647c733',
  25: '0377d860cdb09a8a31ea1b0b8c04335614c8206357181573bf294c25d5ca7dff72387224fbd868897e6769f7805b3dab02854aec6d69d7492883b5e4e5f35eeb',
  26: '418dee4a74b9592198bd8fd02ad1aea76f9cf3085f206dfd7d594c9e264ae919611b1459a1cc920c2f143417744ba9edd7b8d51e44be9452344a225ff7eead19',
  27: '10ffd99837c512ef99752436a54b9810d1ac8878d368fb4b806267bdd664b4abf276c9cd3c4b9039a1fa4315a0c326c0e8e9e8fe0eb588ffd4f9021bf7eae1a1',
  28: '55c77ce8562366c91e7cda394cf7b7c15a06c12d8c905e8b36ba9cf5e13eb37d1a429c589e8eaba4c591bc4b88a0e2828745a53e170eac300236f5c1a326f41a',
};

/** blake2b-512 of a file, streamed (ptau files reach gigabytes). */
export async function blake2bFile(path: string): Promise<string> {
  const h = blake2b.create({ dkLen: 64 });
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) h.update(chunk as Uint8Array);
  return Buffer.from(h.digest()).toString('hex');
}

/** The power of a ptau file, from its header (section 1: n8, q, power, ceremonyPower). */
export async function ptauPower(path: string): Promise<number> {
  const b = new Uint8Array(await readFile(path).then((x) => x.subarray(0, 4096)));
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (String.fromCharCode(...b.subarray(0, 4)) !== 'ptau') throw new Error('not a ptau file');
  // Section headers start at 12; section 1 is the header section.
  const start = 12 + 12;
  const n8 = dv.getUint32(start, true);
  return dv.getUint32(start + 4 + n8, true);
}

/**
 * Checks a ptau file's blake2b-512 against `expected`, or against the published Hermez
 * hash for its power.
 * @throws Error if the hash does not match, or no expected hash is known for the power.
 */
export async function checkPtau(path: string, expected?: string): Promise<{ blake2b: string; power: number }> {
  const power = await ptauPower(path);
  const want = (expected ?? HERMEZ_PTAU_BLAKE2B[power])?.toLowerCase();
  if (!want) throw new Error(`no published hash for a ptau of power ${power}; pass --ptau-hash`);
  const got = await blake2bFile(path);
  if (got !== want) throw new Error(`ptau blake2b mismatch: expected ${want.slice(0, 16)}..., got ${got.slice(0, 16)}...`);
  return { blake2b: got, power };
}

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
