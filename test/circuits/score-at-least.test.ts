/**
 * ScoreAtLeast against the frozen score vectors (holds at the score, fails one above): policy
 * v2's capped evidence in units of 1/100 trial, and policy v1's raw evidence with one unit per
 * trial; its boundaries, and tampered intermediate signals.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import v1 from '../vectors/score-policy.json' with { type: 'json' };
import v2 from '../vectors/score-policy-v2.json' with { type: 'json' };
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { expectAssertAt, loadTestCircuit, tamper, type TestCircuit } from '../helpers/circuit.ts';

const harness = (bits: number, units: number) => `pragma circom 2.1.6;
include "../../../circuits/lib/score-at-least.circom";
component main {public [minScore]} = ScoreAtLeast(${bits}, 38416, 10000, 1000, ${units});
`;
let c: TestCircuit;
let c1: TestCircuit;
beforeAll(async () => {
  c = await loadTestCircuit('score-at-least', { source: harness(48, 100) });
  c1 = await loadTestCircuit('score-at-least-v1', { source: harness(51, 1) });
});
const input = (v: { successes: string; trials: string }, minScore: bigint) => ({ successes: v.successes, trials: v.trials, minScore });
const FINAL = 'xIsZero.out + allHold - xIsZero.out * allHold === 1;';

describe('ScoreAtLeast(48, 38416, 10000, 1000, 100): policy v2', () => {
  it('pins its constraint count', () => {
    expect(c.r1cs.constraints.length).toBe(377);
  });

  it.each(v2.vectors.map((v) => [v.name, v]))('%s holds at its score and fails one above', async (_, v) => {
    const s = BigInt(v.score);
    expect(c.check(await c.witness(input(v, s)))).toBe(-1);
    expect(c.check(await c.witness(input(v, 0n)))).toBe(-1);
    await expectAssertAt(c, input(v, s + 1n), 'ScoreAtLeast', 'score-at-least.circom', FINAL);
  });

  it('refuses out-of-range evidence and thresholds, and more successes than trials', async () => {
    const v = { successes: '5', trials: '10' };
    for (const bad of [2n ** 48n, FIELD_MODULUS - 1n]) {
      await expect(c.witness({ ...input(v, 0n), successes: bad })).rejects.toThrow(/Assert Failed/);
      await expect(c.witness({ ...input(v, 0n), trials: bad })).rejects.toThrow(/Assert Failed/);
    }
    await expectAssertAt(c, { ...input(v, 0n), successes: 11n }, 'ScoreAtLeast', 'score-at-least.circom', 'tallyBits[2].in <== trials - successes;');
    for (const x of [1000n, 1001n, 1024n, FIELD_MODULUS - 1n]) await expect(c.witness(input(v, x))).rejects.toThrow(/Assert Failed/);
  });

  it('a tampered witness cannot fake the comparisons', async () => {
    const v = v2.vectors.find((x) => x.name === 'mixed')!;
    const w = await c.witness(input(v, 500n));
    expect(c.check(w)).toBe(-1);
    for (const name of ['main.d', 'main.dSquare', 'main.quadratic.out', 'main.atLeastRate.out', 'main.noEvidence.out', 'main.allHold', 'main.xn', 'main.evidenceAndBelow']) {
      const value = w[c.wire(name)]!;
      expect(c.check(tamper(c, w, { [name]: value + 1n })), name).toBeGreaterThanOrEqual(0);
    }
    expect(c.check(tamper(c, w, { 'main.minScore': BigInt(v.score) + 1n }))).toBeGreaterThanOrEqual(0);
  });
});

describe('ScoreAtLeast(51, 38416, 10000, 1000, 1): policy v1\'s predicate', () => {
  it.each(v1.vectors.map((v) => [`${v.kept}/${v.broken}/${v.violations}`, v]))('%s holds at its score and fails one above', async (_, v) => {
    const s = BigInt(v.score);
    const e = { successes: v.kept, trials: String(BigInt(v.kept) + BigInt(v.broken) + 5n * BigInt(v.violations)) };
    expect(c1.check(await c1.witness(input(e, s)))).toBe(-1);
    await expectAssertAt(c1, input(e, s + 1n), 'ScoreAtLeast', 'score-at-least.circom', FINAL);
  });
});
