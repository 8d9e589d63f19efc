/**
 * ScoreAtLeast against the frozen score vectors (holds at the score, fails one above), its
 * boundaries, and tampered intermediate signals.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import vectors from '../vectors/score-policy.json' with { type: 'json' };
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { loadTestCircuit, tamper, type TestCircuit } from '../helpers/circuit.ts';

const HARNESS = `pragma circom 2.1.6;
include "../../../circuits/lib/score-at-least.circom";
component main {public [minScore]} = ScoreAtLeast(48, 5, 38416, 10000, 1000);
`;
let c: TestCircuit;
beforeAll(async () => {
  c = await loadTestCircuit('score-at-least', { source: HARNESS });
});
const input = (v: { kept: string; broken: string; violations: string }, minScore: bigint) => ({ kept: v.kept, broken: v.broken, violations: v.violations, minScore });

describe('ScoreAtLeast(48, 5, 38416, 10000, 1000)', () => {
  it('pins its constraint count', () => {
    expect(c.r1cs.constraints.length).toBe(386);
  });

  it.each(vectors.vectors.map((v) => [`${v.kept}/${v.broken}/${v.violations}`, v]))('%s holds at its score and fails one above', async (_, v) => {
    const s = BigInt(v.score);
    expect(c.check(await c.witness(input(v, s)))).toBe(-1);
    expect(c.check(await c.witness(input(v, 0n)))).toBe(-1);
    await expect(c.witness(input(v, s + 1n))).rejects.toThrow(/Assert Failed/);
  });

  it('refuses out-of-range tallies and thresholds', async () => {
    const v = vectors.vectors[6]!;
    for (const bad of [2n ** 48n, FIELD_MODULUS - 1n]) {
      await expect(c.witness({ ...input(v, 0n), kept: bad })).rejects.toThrow(/Assert Failed/);
      await expect(c.witness({ ...input(v, 0n), violations: bad })).rejects.toThrow(/Assert Failed/);
    }
    for (const x of [1000n, 1001n, 1024n, FIELD_MODULUS - 1n]) await expect(c.witness(input(v, x))).rejects.toThrow(/Assert Failed/);
  });

  it('a tampered witness cannot fake the comparisons', async () => {
    const v = vectors.vectors[9]!; // 100/5/1 -> 840
    const w = await c.witness(input(v, 800n));
    expect(c.check(w)).toBe(-1);
    for (const name of ['main.d', 'main.dSquare', 'main.quadratic.out', 'main.atLeastRate.out', 'main.noEvidence.out', 'main.allHold', 'main.xn', 'main.evidenceAndBelow']) {
      const value = w[c.wire(name)]!;
      expect(c.check(tamper(c, w, { [name]: value + 1n })), name).toBeGreaterThanOrEqual(0);
    }
    // Claiming 841 with the honest intermediate values of 800 fails.
    expect(c.check(tamper(c, w, { 'main.minScore': 841n }))).toBeGreaterThanOrEqual(0);
  });
});
