/**
 * Score policy v1 against an exact rational reference (test/helpers/wilson-reference.ts):
 * exhaustively for n <= 60, by properties for large n; monotone in X, 0 without evidence,
 * never 1000; frozen vectors; hostile inputs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vectors from '../vectors/score-policy.json' with { type: 'json' };
import { POLICY_V1, meetsThreshold, policyHash, score, tier, type Tallies } from '../../src/crypto/score-policy.ts';
import { wilsonFloorReference } from '../helpers/wilson-reference.ts';

const T = (kept: bigint, broken: bigint, violations = 0n): Tallies => ({ kept, broken, violations });

describe('score policy v1', () => {
  it('equals floor(1000 * Wilson lower bound) for every s <= n <= 60', () => {
    for (let n = 0n; n <= 60n; n++) {
      for (let s = 0n; s <= n; s++) expect(score(T(s, n - s)), `s=${s} n=${n}`).toBe(wilsonFloorReference(s, n));
    }
  });

  it('the predicate agrees with the reference for every X, for n <= 24', () => {
    for (let n = 1n; n <= 24n; n++) {
      for (let s = 0n; s <= n; s++) {
        const ref = wilsonFloorReference(s, n);
        for (let x = 0n; x <= 1000n; x++) expect(meetsThreshold(T(s, n - s), x)).toBe(x <= ref);
      }
    }
  });

  it('matches the reference for random large evidence, violations weighing W_V broken promises', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 44n }), fc.bigInt({ min: 0n, max: 2n ** 44n }), fc.bigInt({ min: 0n, max: 2n ** 40n }), (kept, broken, violations) => {
        const got = score(T(kept, broken, violations));
        expect(got).toBe(wilsonFloorReference(kept, kept + broken + 5n * violations));
        expect(got).toBe(score(T(kept, broken + 5n * violations)));
      }),
      { numRuns: 300 },
    );
  });

  it('is monotone in X, never reaches 1000, and is 0 without evidence', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 48n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 48n - 1n }), fc.bigInt({ min: 0n, max: 1000n }), (kept, broken, x) => {
        const t = T(kept, broken);
        const sc = score(t);
        expect(sc).toBeLessThan(1000n);
        expect(meetsThreshold(t, x)).toBe(x <= sc);
        expect(meetsThreshold(t, 1000n)).toBe(false);
      }),
      { numRuns: 300 },
    );
    expect(score(T(0n, 0n))).toBe(0n);
    expect(score(T(2n ** 48n - 1n, 0n))).toBeLessThan(1000n);
  });

  it('cold start is honest: 3 of 3 kept is probationary at best, not verified partner', () => {
    expect(score(T(3n, 0n))).toBe(438n);
    expect(tier(score(T(3n, 0n)))).toBe('probationary');
    expect(score(T(1000n, 0n))).toBeGreaterThanOrEqual(900n);
  });

  it('frozen vectors and policy hash', () => {
    expect(String(policyHash(POLICY_V1))).toBe(vectors.policyHash);
    for (const v of vectors.vectors) {
      const t = T(BigInt(v.kept), BigInt(v.broken), BigInt(v.violations));
      expect(String(score(t))).toBe(v.score);
      expect(tier(score(t))).toBe(v.tier);
    }
  });

  it('tiers follow the scale', () => {
    expect([0n, 299n, 300n, 499n, 500n, 699n, 700n, 899n, 900n, 1000n].map(tier)).toEqual([
      'untrusted', 'untrusted', 'probationary', 'probationary', 'standard', 'standard', 'trusted', 'trusted', 'verified partner', 'verified partner',
    ]);
  });

  it('refuses hostile inputs with TypeError or RangeError', () => {
    const bad: unknown[] = [NaN, -5n, 5, '5', Symbol('s'), null, undefined, 2n ** 48n];
    for (const b of bad) {
      const err = typeof b === 'bigint' ? RangeError : TypeError;
      expect(() => score({ kept: b as bigint, broken: 0n, violations: 0n })).toThrow(err);
      expect(() => meetsThreshold(T(1n, 1n), b as bigint)).toThrow(err === RangeError || b === 2n ** 48n ? RangeError : TypeError);
      expect(() => tier(b as bigint)).toThrow(err === RangeError || b === 2n ** 48n ? RangeError : TypeError);
    }
    expect(() => meetsThreshold(T(1n, 1n), 1001n)).toThrow(RangeError);
    expect(() => score(null as unknown as Tallies)).toThrow(TypeError);
  });
});
