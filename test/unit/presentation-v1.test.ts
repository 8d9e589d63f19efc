/**
 * A threshold presentation made under policy v1 with the v1 keys (frozen in
 * test/vectors/presentation-v1.json before policy v2 existed, by scripts/gen-v1-presentation.ts
 * of commit 0549e24, removed since: it needs the v1 proving key) keeps verifying, and any change
 * to it is still refused.
 */
import { describe, expect, it } from 'vitest';
import vector from '../vectors/presentation-v1.json' with { type: 'json' };
import { verifyGroth16 } from '../../src/verifier/groth16.ts';
import { createVerifier } from '../../src/verifier/index.ts';

// Made before checkpoints named their key set, under the repository's development keys: a
// verifier accepts it only when told to accept insecure keys.
const verifier = () => createVerifier({ aggregatorKeys: [vector.aggregator], now: () => vector.now, allowInsecureKeys: true });

describe('a frozen policy v1 presentation', () => {
  it('verifies under its v1 verification key', async () => {
    expect(await verifyGroth16(vector.thresholdVerificationKey as never, vector.presentation.publicSignals, vector.presentation.proof as never)).toBe(true);
  });

  it('is accepted by a verifier that allows development keys, refused (insecure_keys) by default', async () => {
    const r = await verifier().verifyPresentation(structuredClone(vector.presentation), vector.expectations);
    expect(r).toMatchObject({ ok: true, reason: 'ok', provenMinScore: Number(vector.score), keyMode: 'dev', forgeableBy: 'anyone' });
    const strict = createVerifier({ aggregatorKeys: [vector.aggregator], now: () => vector.now });
    expect(await strict.verifyPresentation(structuredClone(vector.presentation), vector.expectations)).toMatchObject({ ok: false, reason: 'insecure_keys' });
  });

  it('is refused once altered', async () => {
    const p = structuredClone(vector.presentation);
    p.publicSignals[2] = String(Number(vector.score) + 1);
    expect((await verifier().verifyPresentation(p, { ...vector.expectations, minScore: Number(vector.score) + 1 })).reason).toBe('invalid_proof');
  });
});
