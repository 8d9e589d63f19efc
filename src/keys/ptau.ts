/**
 * Phase 1 from a powers-of-tau file: its power (from its header) and its blake2b-512, checked
 * against the published hashes of the perpetual powers of tau or against a hash the operator
 * declares. Nothing is downloaded: the file is obtained out of band.
 * @module
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { blake2b } from '@noble/hashes/blake2.js';
import { PUBLISHED_PTAU_BLAKE2B } from '../crypto/key-set.ts';

/** blake2b-512 of a file, streamed (ptau files reach gigabytes). */
export async function blake2bFile(path: string): Promise<string> {
  const h = blake2b.create({ dkLen: 64 });
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) h.update(chunk as Uint8Array);
  return Buffer.from(h.digest()).toString('hex');
}

/**
 * The power of a ptau file, from its header section (n8, q, power, ceremony power).
 * @throws Error if the file is not a ptau file.
 */
export async function ptauPower(path: string): Promise<number> {
  const fd = await open(path, 'r');
  try {
    const b = new Uint8Array(4096);
    const { bytesRead } = await fd.read(b, 0, b.length, 0);
    const v = new DataView(b.buffer, 0, bytesRead);
    if (bytesRead < 64 || String.fromCharCode(...b.subarray(0, 4)) !== 'ptau') throw new Error('not a ptau file');
    // Sections start at 12; the first is the header (id 1).
    if (v.getUint32(12, true) !== 1) throw new Error('not a ptau file: the header section does not come first');
    const n8 = v.getUint32(24, true);
    if (n8 !== 32) throw new Error('not a BN254 ptau file');
    return v.getUint32(28 + n8, true);
  } finally {
    await fd.close();
  }
}

/**
 * Checks a ptau file's blake2b-512 against `expected`, or against the published hash for its
 * power.
 * @returns its hash, its power and whether that hash is a published one.
 * @throws Error if the hash does not match, or no expected hash is known for the power.
 */
export async function checkPtau(path: string, expected?: string): Promise<{ blake2b: string; power: number; published: boolean }> {
  const power = await ptauPower(path);
  const want = (expected ?? PUBLISHED_PTAU_BLAKE2B[power])?.toLowerCase();
  if (!want) throw new Error(`no published hash for a ptau of power ${power}; pass the hash you trust`);
  if (!/^[0-9a-f]{128}$/.test(want)) throw new Error('a ptau hash is 128 hex digits (blake2b-512)');
  const got = await blake2bFile(path);
  if (got !== want) throw new Error(`ptau blake2b mismatch: expected ${want.slice(0, 16)}..., got ${got.slice(0, 16)}...`);
  return { blake2b: got, power, published: PUBLISHED_PTAU_BLAKE2B[power] === got };
}
