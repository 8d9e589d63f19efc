/**
 * Policy v1's threshold verification keys (the committed keys of both configurations before
 * policy v2, artifacts/legacy/v1/), bundled so that a presentation made under policy v1 keeps
 * verifying under the keys it was made with. Each key's sha256 is pinned here, as the manifest
 * pins the current keys'.
 * @module
 */
import testThreshold from '../../artifacts/legacy/v1/test/threshold.vkey.json' with { type: 'json' };
import productionThreshold from '../../artifacts/legacy/v1/production/threshold.vkey.json' with { type: 'json' };
import type { Groth16VerificationKey } from './groth16.ts';

export const LEGACY_V1_THRESHOLD_KEYS: Record<string, { threshold: Groth16VerificationKey; thresholdHash: string }> = {
  test: { threshold: testThreshold as Groth16VerificationKey, thresholdHash: '5f7ec0a14faaccd18816805cccc997071cb38681f85bec80855fece17c1a466f' },
  production: { threshold: productionThreshold as Groth16VerificationKey, thresholdHash: '8ad24fa04d5b73027dfe8e4f6eeeddbb8a04c127ea293070cb6fb999a59ce5bf' },
};
