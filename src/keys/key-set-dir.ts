/**
 * A key set on disk: a directory holding `key-set.json` and one proving key per circuit.
 *
 *   key-set.json   { version: 1, keySetHash, descriptor, verificationKeys: {<circuit>: vkey},
 *                    zkeys: {<circuit>: sha256 of <circuit>.zkey}, createdAt, transcript? }
 *   <circuit>.zkey the snarkjs proving key
 *
 * The same format holds `local` keys made on a service's first start, the result of an
 * organisations' ceremony, and a key set made elsewhere and configured with ZKTRUST_KEY_SET.
 * `openKeySetDir` trusts nothing in it: the key set hash must be the descriptor's, each
 * verification key must hash to the descriptor's entry and be the one exported from its
 * proving key, each proving key must hash to its recorded sha256, carry the descriptor's
 * contribution hashes (read from its own records) and have delta != 1, and each circuit must
 * be the compiled one (r1cs sha256).
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keySetHash, parseKeySetDescriptor, vkeyHash, type KeySetDescriptor } from '../crypto/key-set.ts';
import type { Groth16VerificationKey } from '../verifier/groth16.ts';
import { contributionHash, readPhase2 } from './phase2.ts';
import { keyCurve, verificationKeyOf } from './zkey-file.ts';

export const KEY_SET_FILE = 'key-set.json';

export interface KeySetFile {
  version: 1;
  keySetHash: string;
  descriptor: KeySetDescriptor;
  verificationKeys: Record<string, Groth16VerificationKey>;
  /** sha256 (hex) of each circuit's proving key file. */
  zkeys: Record<string, string>;
  /** Milliseconds since the epoch. */
  createdAt: number;
  /** For a ceremony's result: its public transcript. */
  transcript?: unknown;
}

/** A key set checked and ready to prove with. */
export interface KeySet {
  hash: string;
  descriptor: KeySetDescriptor;
  verificationKeys: Record<string, Groth16VerificationKey>;
  /** Absolute paths of the proving keys, by circuit. */
  zkeyPaths: Record<string, string>;
  dir: string;
  createdAt: number;
  transcript?: unknown;
}

/** Error for a key set that is missing, altered or unsafe. */
export class KeySetError extends Error {
  override name = 'KeySetError';
}

/** sha256 of a file, streamed (proving keys reach hundreds of megabytes). */
export async function sha256OfFile(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The contribution hashes recorded in a proving key, and whether its delta is still 1. */
export async function zkeyContributions(bytes: Uint8Array): Promise<{ hashes: string[]; deltaIsOne: boolean }> {
  const curve = await keyCurve();
  const { mpc, delta1 } = await readPhase2(bytes);
  return { hashes: mpc.contributions.map((c) => contributionHash(curve, c)), deltaIsOne: curve.G1.eq(delta1, curve.G1.g) };
}

/**
 * Writes `key-set.json` into `dir` (atomically), after the proving keys are in place.
 * @returns the file's content.
 */
export async function writeKeySetFile(dir: string, value: Omit<KeySetFile, 'version' | 'keySetHash'>): Promise<KeySetFile> {
  const file: KeySetFile = { version: 1, keySetHash: keySetHash(value.descriptor), ...value };
  await mkdir(dir, { recursive: true });
  const path = join(dir, KEY_SET_FILE);
  await writeFile(`${path}.tmp`, JSON.stringify(file, null, 2) + '\n');
  await rename(`${path}.tmp`, path);
  return file;
}

/**
 * Opens and checks a key set directory (see the module comment).
 * @param expect the configuration, policy hash and r1cs sha256 per circuit the key set must
 *   be for; `proving: false` skips the proving keys (a key set kept only for audits).
 * @throws KeySetError naming what does not hold.
 */
export async function openKeySetDir(dir: string, expect: { config: string; policyHash: string; r1cs: Record<string, string>; proving?: boolean }): Promise<KeySet> {
  const path = join(dir, KEY_SET_FILE);
  if (!existsSync(path)) throw new KeySetError(`${path} is missing`);
  let file: KeySetFile;
  let descriptor: KeySetDescriptor;
  try {
    file = JSON.parse(await readFile(path, 'utf8')) as KeySetFile;
    descriptor = parseKeySetDescriptor(file.descriptor, 'descriptor');
  } catch (e) {
    throw new KeySetError(`${path}: ${(e as Error).message}`);
  }
  const hash = keySetHash(descriptor);
  if (file.keySetHash !== hash) throw new KeySetError(`${path}: keySetHash is not the descriptor's hash`);
  if (descriptor.config !== expect.config) throw new KeySetError(`${path}: the key set is for configuration ${descriptor.config}, not ${expect.config}`);
  if (descriptor.policyHash !== expect.policyHash) throw new KeySetError(`${path}: the key set is for another score policy`);
  const names = Object.keys(expect.r1cs).sort();
  if (JSON.stringify(Object.keys(descriptor.circuits).sort()) !== JSON.stringify(names)) throw new KeySetError(`${path}: the key set has other circuits than ${names.join(', ')}`);
  const zkeyPaths: Record<string, string> = {};
  for (const name of names) {
    const c = descriptor.circuits[name]!;
    if (c.r1cs !== expect.r1cs[name]) throw new KeySetError(`${path}: ${name} keys are for another circuit (r1cs differs from the compiled one)`);
    const vkey = file.verificationKeys?.[name];
    if (!vkey || vkeyHash(vkey) !== c.vkey) throw new KeySetError(`${path}: the ${name} verification key does not hash to the descriptor's`);
    const zkey = join(dir, `${name}.zkey`);
    zkeyPaths[name] = zkey;
    if (expect.proving === false) continue;
    if (!existsSync(zkey)) throw new KeySetError(`${zkey} is missing`);
    const bytes = new Uint8Array(await readFile(zkey));
    if (createHash('sha256').update(bytes).digest('hex') !== file.zkeys?.[name]) throw new KeySetError(`${zkey} differs from its sha256 in ${KEY_SET_FILE}`);
    const { hashes, deltaIsOne } = await zkeyContributions(bytes);
    if (deltaIsOne || hashes.length === 0) throw new KeySetError(`${zkey} has no phase-2 contribution: such a key allows forged proofs`);
    if (JSON.stringify(hashes) !== JSON.stringify(c.contributions)) throw new KeySetError(`${zkey}: its contribution records are not the descriptor's`);
    const exported = await verificationKeyOf(bytes);
    if (vkeyHash(exported) !== c.vkey) throw new KeySetError(`${zkey}: its verification key is not the recorded one`);
  }
  return { hash, descriptor, verificationKeys: file.verificationKeys, zkeyPaths, dir, createdAt: file.createdAt, ...(file.transcript !== undefined ? { transcript: file.transcript } : {}) };
}
