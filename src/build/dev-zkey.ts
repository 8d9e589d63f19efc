/**
 * Development Groth16 keys: reproducible, fast and INSECURE. tau, alpha and beta follow from
 * a public seed; the key is computed in the field (src/keys/zkey-writer.ts, as `snarkjs zkey
 * new` would write it from a powers-of-tau file with these secrets), then snarkjs's own
 * `zkey beacon` applies a phase-2 contribution deterministic from the seed, so the result is
 * an ordinary snarkjs key with delta != 1 that snarkjs proves and verifies with.
 *
 * Anyone who knows the seed, that is everyone, can forge proofs with these keys. A service
 * uses them only with ZKTRUST_INSECURE_DEV_KEYS=1, and verifiers refuse them by default.
 * @module
 */
import { rename, rm } from 'node:fs/promises';
import { sha256 } from '@noble/hashes/sha2.js';
import * as snarkjs from 'snarkjs';
import { FIELD_MODULUS as R, bytesToBigint, mod } from '../crypto/field.ts';
import { writeZkey, type Progress } from '../keys/zkey-writer.ts';

/** The name recorded for the development phase-2 contribution. */
export const DEV_BEACON_NAME = 'zktrust development beacon (INSECURE)';

export interface DevSecrets {
  tau: bigint;
  alpha: bigint;
  beta: bigint;
  /** 32-byte hex beacon for the phase-2 contribution. */
  beacon: string;
}

/**
 * The development secrets of a seed: each is sha256("zktrust/dev/<name>/" + seed) mod r
 * (non-zero), and the beacon is sha256("zktrust/dev/beacon/" + seed) in hex.
 * @example deriveDevSecrets('zktrust-insecure-dev-seed-v1')
 */
export function deriveDevSecrets(seed: string): DevSecrets {
  const h = (label: string) => sha256(new TextEncoder().encode(`zktrust/dev/${label}/${seed}`));
  const f = (label: string) => mod(bytesToBigint(h(label)), R - 1n) + 1n;
  return { tau: f('tau'), alpha: f('alpha'), beta: f('beta'), beacon: Buffer.from(h('beacon')).toString('hex') };
}

/**
 * A development key for `r1csPath`: the initial key from the seed's secrets, then one
 * phase-2 contribution by snarkjs's `zkey beacon` with the seed's beacon (2^10 iterations).
 * Deterministic: the same seed and r1cs always give the same bytes.
 * @returns the verification key (snarkjs JSON) and the circuit hash.
 */
export async function devSetup(opts: { r1csPath: string; zkeyPath: string; seed: string; onProgress?: Progress }): Promise<{ vkey: unknown; csHash: string; contributionHash: string }> {
  const secrets = deriveDevSecrets(opts.seed);
  const initial = `${opts.zkeyPath}.initial`;
  try {
    const { csHash } = await writeZkey(opts.r1csPath, initial, secrets, { onProgress: opts.onProgress });
    opts.onProgress?.('beacon', 0, 1);
    const tmp = `${opts.zkeyPath}.tmp`;
    const contribution: Uint8Array | false = await snarkjs.zKey.beacon!(initial, tmp, DEV_BEACON_NAME, secrets.beacon, 10);
    if (!contribution) throw new Error('snarkjs zkey beacon failed');
    await rename(tmp, opts.zkeyPath);
    opts.onProgress?.('beacon', 1, 1);
    const vkey = await snarkjs.zKey.exportVerificationKey!(opts.zkeyPath);
    return { vkey, csHash: Buffer.from(csHash).toString('hex'), contributionHash: Buffer.from(contribution).toString('hex') };
  } finally {
    await rm(initial, { force: true });
  }
}
