/**
 * Key sets: which Groth16 keys a deployment proves with, and who could forge proofs under
 * them (docs/keys.md). Pure and browser-safe: verifiers import it.
 *
 * A key set is described by a small descriptor: the circuit configuration, the key mode,
 * the score policy compiled into the circuits, where phase 1 (tau, alpha, beta) came from,
 * and per circuit the sha256 of its r1cs, the hash of its verification key and the hashes of
 * its phase-2 contributions. The key set hash is sha256 over the descriptor's signing bytes
 * (`zktrust/v1/key-set\n` + canonical JSON). Every checkpoint names the key set hash its
 * batch was proven under, so a presentation proves under which keys it was made.
 *
 * Modes, and who can forge a proof for any statement (with snarkjs keys gamma is the G2
 * generator, so any one of tau, alpha, beta or delta suffices):
 *   dev       phase 1 and the beacon follow from a public seed: anyone.
 *   local     this deployment's OS randomness, discarded after use: its operator could have
 *             kept it, so whoever runs the aggregator.
 *   ceremony  phase 1 from a published powers-of-tau file, phase 2 contributed by the
 *             organisations and finished by a public beacon: only all participants of
 *             phase 1, or all participants of phase 2, acting together.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalJson, signingBytes } from './canonical.ts';
import { describe } from './field.ts';

/** The key modes, from least to most trustworthy. */
export const KEY_MODES = ['dev', 'local', 'ceremony'] as const;
export type KeyMode = (typeof KEY_MODES)[number];

/** Who could forge a proof for any statement under keys of a mode. */
export type ForgeableBy = 'anyone' | 'operator' | 'colluding-participants';
export const FORGEABLE_BY: Readonly<Record<KeyMode, ForgeableBy>> = Object.freeze({
  dev: 'anyone',
  local: 'operator',
  ceremony: 'colluding-participants',
});

/** Where phase 1 (tau, alpha, beta) came from; each mode has exactly one kind. */
export type Phase1 =
  | { kind: 'seed'; seed: string }
  | { kind: 'local' }
  | { kind: 'ptau'; blake2b: string; power: number };

const PHASE1_OF_MODE: Readonly<Record<KeyMode, Phase1['kind']>> = { dev: 'seed', local: 'local', ceremony: 'ptau' };

export interface KeySetCircuit {
  /** sha256 (hex) of the circuit's r1cs file: which circuit the key is for. */
  r1cs: string;
  /** vkeyHash() of the circuit's verification key. */
  vkey: string;
  /** Phase-2 contribution hashes (blake2b-512, hex, as snarkjs prints them), in order. */
  contributions: string[];
}

export interface KeySetDescriptor {
  version: 1;
  /** The circuit configuration (circuits/circuits.json). */
  config: string;
  mode: KeyMode;
  /** The score policy hash compiled into the circuits (decimal). */
  policyHash: string;
  phase1: Phase1;
  circuits: Record<string, KeySetCircuit>;
}

/**
 * blake2b-512 of the published perpetual powers-of-tau files ("powersOfTau28_hez_final_<power>.ptau",
 * as listed in snarkjs's README), by power: the public phase-1 files a `ceremony` key set may
 * start from. A verifier accepts other phase-1 files only when told to (`trustedPtauHashes`).
 */
export const PUBLISHED_PTAU_BLAKE2B: Readonly<Record<number, string>> = Object.freeze({
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
});

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

const SHA256_HEX = /^[0-9a-f]{64}$/;
const BLAKE2B_HEX = /^[0-9a-f]{128}$/;
const NAME = /^[a-z][a-z0-9-]{0,40}$/;
const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

/**
 * sha256 (hex) of a verification key's canonical JSON: the same key always hashes the same,
 * whatever its whitespace or key order.
 * @throws TypeError if the key is not plain JSON data.
 */
export function vkeyHash(vkey: unknown): string {
  return hex(sha256(new TextEncoder().encode(canonicalJson(vkey))));
}

/**
 * The key set hash of a descriptor (hex sha256 of its signing bytes).
 * @throws TypeError / RangeError if the descriptor is malformed (see parseKeySetDescriptor).
 * @example keySetHash(descriptor) // '3f1c...'
 */
export function keySetHash(descriptor: KeySetDescriptor): string {
  return hex(sha256(signingBytes('key-set', parseKeySetDescriptor(descriptor, 'descriptor'))));
}

function obj(x: unknown, name: string): Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new TypeError(`${name} must be an object, got ${describe(x)}`);
  return x as Record<string, unknown>;
}
function str(x: unknown, name: string, pattern: RegExp): string {
  if (typeof x !== 'string') throw new TypeError(`${name} must be a string, got ${describe(x)}`);
  if (!pattern.test(x)) throw new RangeError(`${name} is not of the expected form`);
  return x;
}
function keys(o: Record<string, unknown>, name: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new RangeError(`${name} has an unknown field ${JSON.stringify(k.slice(0, 40))}`);
}

function parsePhase1(x: unknown, name: string): Phase1 {
  const o = obj(x, name);
  if (o.kind === 'seed') {
    keys(o, name, ['kind', 'seed']);
    return { kind: 'seed', seed: str(o.seed, `${name}.seed`, /^[\x20-\x7e]{1,100}$/) };
  }
  if (o.kind === 'local') {
    keys(o, name, ['kind']);
    return { kind: 'local' };
  }
  if (o.kind === 'ptau') {
    keys(o, name, ['kind', 'blake2b', 'power']);
    const power = o.power;
    if (typeof power !== 'number' || !Number.isInteger(power) || power < 1 || power > 28) throw new RangeError(`${name}.power must be an integer in [1, 28]`);
    return { kind: 'ptau', blake2b: str(o.blake2b, `${name}.blake2b`, BLAKE2B_HEX), power };
  }
  throw new RangeError(`${name}.kind must be seed, local or ptau`);
}

/**
 * Checks the shape of a key set descriptor and that its mode and phase 1 agree (dev: seed,
 * local: local, ceremony: a powers-of-tau file); returns a copy with only its own fields.
 * @throws TypeError for wrong types; RangeError for values out of form or a mode that
 *   contradicts its phase 1.
 */
export function parseKeySetDescriptor(x: unknown, name = 'descriptor'): KeySetDescriptor {
  const o = obj(x, name);
  keys(o, name, ['version', 'config', 'mode', 'policyHash', 'phase1', 'circuits']);
  if (o.version !== 1) throw new RangeError(`${name}.version must be 1`);
  const config = str(o.config, `${name}.config`, NAME);
  if (typeof o.mode !== 'string' || !(KEY_MODES as readonly string[]).includes(o.mode)) throw new RangeError(`${name}.mode must be one of ${KEY_MODES.join(', ')}`);
  const mode = o.mode as KeyMode;
  const policyHash = str(o.policyHash, `${name}.policyHash`, DECIMAL);
  const phase1 = parsePhase1(o.phase1, `${name}.phase1`);
  if (PHASE1_OF_MODE[mode] !== phase1.kind) throw new RangeError(`${name}: mode ${mode} needs phase 1 of kind ${PHASE1_OF_MODE[mode]}, not ${phase1.kind}`);
  const c = obj(o.circuits, `${name}.circuits`);
  const names = Object.keys(c);
  if (names.length === 0 || names.length > 8) throw new RangeError(`${name}.circuits must name 1 to 8 circuits`);
  const circuits: Record<string, KeySetCircuit> = {};
  for (const n of names.sort()) {
    str(n, `${name}.circuits key`, NAME);
    const e = obj(c[n], `${name}.circuits.${n}`);
    keys(e, `${name}.circuits.${n}`, ['r1cs', 'vkey', 'contributions']);
    if (!Array.isArray(e.contributions) || e.contributions.length === 0 || e.contributions.length > 256) {
      // A key without a phase-2 contribution has delta = 1: anyone can forge with it.
      throw new RangeError(`${name}.circuits.${n}.contributions must list 1 to 256 contributions`);
    }
    circuits[n] = {
      r1cs: str(e.r1cs, `${name}.circuits.${n}.r1cs`, SHA256_HEX),
      vkey: str(e.vkey, `${name}.circuits.${n}.vkey`, SHA256_HEX),
      contributions: e.contributions.map((h, i) => str(h, `${name}.circuits.${n}.contributions[${i}]`, BLAKE2B_HEX)),
    };
  }
  return { version: 1, config, mode, policyHash, phase1, circuits };
}

/** Whether phase 1 is one of the published perpetual powers-of-tau files, or one of `extra`. */
export function isPublishedPhase1(phase1: Phase1, extra: readonly string[] = []): boolean {
  if (phase1.kind !== 'ptau') return false;
  return PUBLISHED_PTAU_BLAKE2B[phase1.power] === phase1.blake2b || extra.includes(phase1.blake2b);
}

/** What a manifest records of one circuit's keys (artifacts/manifest.json). */
export interface ManifestCircuitKeys {
  r1cs: string;
  contributions: ReadonlyArray<{ hash: string }>;
}

/**
 * The descriptor of the key set a manifest configuration records (development keys from a
 * seed, or a ceremony's keys from a powers-of-tau file), given its verification keys.
 */
export function descriptorOfManifest(
  config: string,
  conf: { mode: string; seed?: string; ptau?: { blake2b: string; power: number }; circuits: Readonly<Record<string, ManifestCircuitKeys>> },
  verificationKeys: Readonly<Record<string, unknown>>,
  policyHash: string,
): KeySetDescriptor {
  const circuits: Record<string, KeySetCircuit> = {};
  for (const [name, c] of Object.entries(conf.circuits)) circuits[name] = { r1cs: c.r1cs, vkey: vkeyHash(verificationKeys[name]), contributions: c.contributions.map((x) => x.hash) };
  const phase1: Phase1 = conf.mode === 'dev' ? { kind: 'seed', seed: conf.seed ?? '' } : { kind: 'ptau', blake2b: conf.ptau?.blake2b ?? '', power: conf.ptau?.power ?? 0 };
  return parseKeySetDescriptor({ version: 1, config, mode: conf.mode, policyHash, phase1, circuits });
}
