/**
 * The repository's development keys, bundled so that a verifier recognises them without a
 * network or a file system: their key sets (to refuse them by default, and to read
 * presentations made before checkpoints named their key set) and their phase-1 points. Every
 * development key of every configuration and circuit has the same alpha and beta (they follow
 * from the public seed), so `isDevelopmentKey` spots a development key whatever mode an
 * aggregator claims for it.
 * @module
 */
import manifest from '../../artifacts/manifest.json' with { type: 'json' };
import testThreshold from '../../artifacts/test/threshold.vkey.json' with { type: 'json' };
import testBatch from '../../artifacts/test/batch-update.vkey.json' with { type: 'json' };
import productionThreshold from '../../artifacts/production/threshold.vkey.json' with { type: 'json' };
import productionBatch from '../../artifacts/production/batch-update.vkey.json' with { type: 'json' };
import { canonicalJson } from '../crypto/canonical.ts';
import { descriptorOfManifest, keySetHash, type KeySetDescriptor } from '../crypto/key-set.ts';
import { CIRCUIT_POLICY, policyHash } from '../crypto/score-policy.ts';
import type { Groth16VerificationKey } from './groth16.ts';

export interface BundledKeys {
  mode: string;
  threshold: Groth16VerificationKey;
  descriptor: KeySetDescriptor;
  keySetHash: string;
}

const VKEYS: Record<string, Record<string, unknown>> = {
  test: { 'batch-update': testBatch, threshold: testThreshold },
  production: { 'batch-update': productionBatch, threshold: productionThreshold },
};

function bundled(config: 'test' | 'production'): BundledKeys {
  const conf = manifest.configurations[config];
  const descriptor = descriptorOfManifest(config, conf, VKEYS[config]!, policyHash(CIRCUIT_POLICY).toString());
  return { mode: conf.mode, threshold: VKEYS[config]!.threshold as Groth16VerificationKey, descriptor, keySetHash: keySetHash(descriptor) };
}

/** The repository's key sets by configuration (development keys: INSECURE). */
export const BUNDLED_KEYS: Record<string, BundledKeys> = { test: bundled('test'), production: bundled('production') };

const devPoints = new Set(
  Object.values(BUNDLED_KEYS)
    .filter((k) => k.mode === 'dev')
    .flatMap((k) => [canonicalJson(k.threshold.vk_alpha_1), canonicalJson(k.threshold.vk_beta_2)]),
);

/**
 * Whether a verification key's alpha or beta is the development seed's: anyone can forge
 * proofs under such a key, whatever its delta.
 */
export function isDevelopmentKey(vkey: Groth16VerificationKey): boolean {
  try {
    return devPoints.has(canonicalJson(vkey.vk_alpha_1)) || devPoints.has(canonicalJson(vkey.vk_beta_2));
  } catch {
    return false;
  }
}

const isAffineG1 = (p: unknown) => Array.isArray(p) && p.length === 3 && p[2] === '1';
const isAffineG2 = (p: unknown) => Array.isArray(p) && p.length === 3 && Array.isArray(p[2]) && p[2][0] === '1' && p[2][1] === '0';

/**
 * Whether every point of a verification key is written in affine form (z = 1), as snarkjs
 * exports them. Other forms of the same points are refused, so that no one can disguise a
 * known point (a development alpha, say) behind another projective representation.
 */
export function isAffineVerificationKey(vkey: unknown): boolean {
  if (typeof vkey !== 'object' || vkey === null) return false;
  const k = vkey as Record<string, unknown>;
  return isAffineG1(k.vk_alpha_1) && [k.vk_beta_2, k.vk_gamma_2, k.vk_delta_2].every(isAffineG2) && Array.isArray(k.IC) && k.IC.every(isAffineG1);
}
