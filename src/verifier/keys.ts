/**
 * The committed verification keys of the threshold circuit, bundled so that verifying needs
 * no network and no file system, with the sha256 the manifest records for each.
 * @module
 */
import manifest from '../../artifacts/manifest.json' with { type: 'json' };
import testThreshold from '../../artifacts/test/threshold.vkey.json' with { type: 'json' };
import productionThreshold from '../../artifacts/production/threshold.vkey.json' with { type: 'json' };
import type { Groth16VerificationKey } from './groth16.ts';

export interface BundledKeys {
  mode: string;
  threshold: Groth16VerificationKey;
  thresholdHash: string;
}

export const BUNDLED_KEYS: Record<string, BundledKeys> = {
  test: { mode: manifest.configurations.test.mode, threshold: testThreshold as Groth16VerificationKey, thresholdHash: manifest.configurations.test.circuits.threshold.vkey },
  production: { mode: manifest.configurations.production.mode, threshold: productionThreshold as Groth16VerificationKey, thresholdHash: manifest.configurations.production.circuits.threshold.vkey },
};
