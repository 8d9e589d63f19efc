/**
 * Policy v1's batch circuit stays buildable for the benchmark's comparison (circuits/legacy/v1
 * with the pinned twin scripts/legacy/v1-state.ts): it compiles to its v1 constraint count and
 * an honest v1 batch satisfies it.
 */
import { describe, expect, it } from 'vitest';
import { readCircuitsFile, writeLegacyV1Batch } from '../../src/build/build-circuits.ts';
import { V1AgentState, buildV1Batch } from '../../scripts/legacy/v1-state.ts';
import { POLICY_V1, policyHash } from '../../src/crypto/score-policy.ts';
import { loadTestCircuit } from '../helpers/circuit.ts';

describe('policy v1 batch circuit (circuits/legacy/v1)', () => {
  it('compiles as it did (35,688 constraints in the test configuration) and accepts a v1 batch', async () => {
    const c = await loadTestCircuit(await writeLegacyV1Batch('test'));
    expect(c.r1cs.constraints.length).toBe(35_688);
    const { agentDepth, orgDepth, batchSize } = readCircuitsFile().legacy.v1.configurations.test!;
    const state = new V1AgentState({ agentDepth, orgDepth });
    const entries = [1n, 2n, 1n].map((agent, k) => ({ record: { agent, org: 7n + BigInt(k), epoch: 1n, kept: 3n, broken: 1n, violations: 0n, scope: 0n, salt: BigInt(k + 1) }, orgIndex: k }));
    const b = buildV1Batch(state, entries, batchSize, policyHash(POLICY_V1));
    expect(c.check(await c.witness(b.input))).toBe(-1);
  });
});
