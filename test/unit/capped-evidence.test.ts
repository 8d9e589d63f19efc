/**
 * Policy v2's caps (invariant 9) against an exact reference in bigint
 * (test/helpers/capped-reference.ts): the capped contribution of one organisation, the
 * evidence the state twin keeps as records arrive in any order, the score of that evidence,
 * and the bounds the caps exist for: one organisation never lifts an agent above the score of
 * C perfect trials, and a record without trials counts for nothing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCircuitsFile } from '../../src/build/build-circuits.ts';
import {
  ACCEPTED_POLICY_HASHES, POLICY_V1, POLICY_V2, cappedContribution, cappedEvidence, evidenceScore, meetsEvidenceThreshold, policyHash, withinRecordCap,
} from '../../src/crypto/score-policy.ts';
import { AgentState } from '../../src/state/agent-state.ts';
import { cappedReference, type ReferenceRecord } from '../helpers/capped-reference.ts';
import { wilsonFloorReference } from '../helpers/wilson-reference.ts';

const C = POLICY_V2.orgCap;
const U = POLICY_V2.trialUnits;
const ref = (s: bigint, n: bigint) => wilsonFloorReference(s, n, 38416n, 10000n, 1000n, U);
const SHAPE = { agentDepth: 3, orgDepth: 2 };

describe('policy v2', () => {
  it('is what circuits/circuits.json compiles, with its own hash, and both versions are accepted', () => {
    const p = readCircuitsFile().policy;
    expect(Object.fromEntries(Object.entries(p).map(([k, v]) => [k, BigInt(v)]))).toEqual({ ...POLICY_V2 });
    expect(policyHash(POLICY_V2)).not.toBe(policyHash(POLICY_V1));
    expect(ACCEPTED_POLICY_HASHES).toEqual([policyHash(POLICY_V1).toString(), policyHash(POLICY_V2).toString()]);
    expect(() => policyHash({ ...POLICY_V2, orgCap: 8 } as unknown as typeof POLICY_V2)).toThrow(TypeError);
  });

  it('caps one organisation exactly: unchanged up to C trials, scaled with successes rounded down to a unit above', () => {
    for (let n = 0n; n <= 60n; n++) {
      for (let s = 0n; s <= n; s++) {
        const got = cappedContribution({ successes: s, trials: n });
        const want = cappedReference([{ org: 0, kept: s, broken: n - s, violations: 0n }], C, U);
        expect([got.successes, got.trials], `s=${s} n=${n}`).toEqual([want.successes, want.trials]);
        // Against the agent: the capped rate is at most the raw rate, by less than one unit.
        if (n > 0n) {
          expect(got.successes * n).toBeLessThanOrEqual(s * got.trials);
          expect((got.successes + 1n) * n).toBeGreaterThan(s * got.trials);
        }
      }
    }
    expect(cappedContribution({ successes: 999n, trials: 1000n })).toEqual({ successes: 799n, trials: 800n });
    expect(cappedContribution({ successes: 2n ** 41n, trials: 2n ** 41n })).toEqual({ successes: 800n, trials: 800n });
    expect(cappedContribution({ successes: 3n, trials: 5n })).toEqual({ successes: 300n, trials: 500n });
  });

  it('the state twin keeps exactly the reference evidence, whatever the order of organisations and agents', () => {
    const record = fc.record({
      agent: fc.integer({ min: 1, max: 4 }),
      org: fc.integer({ min: 0, max: 5 }),
      kept: fc.bigInt({ min: 0n, max: 400n }),
      broken: fc.bigInt({ min: 0n, max: 300n }),
      violations: fc.bigInt({ min: 0n, max: 60n }),
    });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 40 }), (recs) => {
        const state = new AgentState(SHAPE);
        const epoch = new Map<string, bigint>();
        const applied = new Map<number, ReferenceRecord[]>();
        for (const [i, r] of recs.entries()) {
          if (!withinRecordCap(r)) {
            expect(() => state.check({ record: { agent: BigInt(r.agent * 1000), org: BigInt(50 + r.org), epoch: 1n, kept: r.kept, broken: r.broken, violations: r.violations, scope: 0n, salt: 1n }, orgIndex: r.org })).toThrow(/record cap/);
            continue;
          }
          const key = `${r.agent}/${r.org}`;
          const e = (epoch.get(key) ?? 19_000n) + 1n + BigInt(i % 3);
          epoch.set(key, e);
          state.apply({ record: { agent: BigInt(r.agent * 1000), org: BigInt(50 + r.org), epoch: e, kept: r.kept, broken: r.broken, violations: r.violations, scope: 0n, salt: BigInt(i + 1) }, orgIndex: r.org });
          applied.set(r.agent, [...(applied.get(r.agent) ?? []), r]);
        }
        for (const [agent, rs] of applied) {
          const { summary } = state.lookup(BigInt(agent * 1000))!.leaf;
          const want = cappedReference(rs, C, U);
          expect(summary).toEqual(want);
          expect(evidenceScore(summary, POLICY_V2)).toBe(ref(want.successes, want.trials));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('one organisation never lifts an agent above the score of C perfect trials', () => {
    const ceiling = evidenceScore({ successes: C * U, trials: C * U }, POLICY_V2);
    expect(ceiling).toBe(ref(C * U, C * U));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 1000n }), fc.bigInt({ min: 0n, max: 1000n })), { minLength: 1, maxLength: 30 }), (tallies) => {
        const s = tallies.reduce((a, [k]) => a + k, 0n);
        const n = tallies.reduce((a, [k, b]) => a + k + b, 0n);
        const e = cappedEvidence([{ successes: s, trials: n }]);
        expect(e.trials).toBeLessThanOrEqual(C * U);
        expect(evidenceScore(e, POLICY_V2)).toBeLessThanOrEqual(ceiling);
        expect(meetsEvidenceThreshold(e, ceiling + 1n, POLICY_V2)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('k organisations reach at most the score of k * C perfect trials, and an adversary adds at most C failures', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 6n }), fc.bigInt({ min: 0n, max: 10n ** 6n })), { minLength: 1, maxLength: 10 }), fc.bigInt({ min: 1n, max: 10n ** 6n }), (orgs, hostile) => {
        const honest = orgs.map(([s, f]) => ({ successes: s, trials: s + f }));
        const e = cappedEvidence(honest);
        const k = BigInt(orgs.length);
        expect(evidenceScore(e, POLICY_V2)).toBeLessThanOrEqual(evidenceScore({ successes: k * C * U, trials: k * C * U }, POLICY_V2));
        const attacked = cappedEvidence([...honest, { successes: 0n, trials: hostile }]);
        expect(attacked.successes).toBe(e.successes);
        expect(attacked.trials - e.trials).toBe(U * (hostile < C ? hostile : C));
      }),
      { numRuns: 300 },
    );
  });

  it('records without trials count for nothing, and the record cap bounds one record', () => {
    const state = new AgentState(SHAPE);
    const rec = (org: bigint, epoch: bigint, kept: bigint, broken = 0n, violations = 0n) => ({ record: { agent: 7n, org, epoch, kept, broken, violations, scope: 0n, salt: epoch }, orgIndex: Number(org) });
    state.apply(rec(1n, 10n, 0n));
    state.apply(rec(2n, 10n, 0n));
    expect(state.lookup(7n)!.leaf.summary).toEqual({ successes: 0n, trials: 0n, records: 0n, orgCount: 0n });
    expect(evidenceScore(state.lookup(7n)!.leaf.summary, POLICY_V2)).toBe(0n);
    state.apply(rec(2n, 11n, 3n));
    expect(state.lookup(7n)!.leaf.summary).toEqual({ successes: 3n * U, trials: 3n * U, records: 1n, orgCount: 1n });
    expect(withinRecordCap({ kept: 1000n, broken: 0n, violations: 0n })).toBe(true);
    expect(withinRecordCap({ kept: 995n, broken: 0n, violations: 1n })).toBe(true);
    expect(withinRecordCap({ kept: 996n, broken: 0n, violations: 1n })).toBe(false);
    expect(() => state.check(rec(1n, 12n, 1001n))).toThrow(RangeError);
    // One record per (agent, organisation, epoch), epochs increasing.
    expect(() => state.check(rec(2n, 11n, 1n))).toThrow(/not after/);
    expect(() => state.check(rec(2n, 9n, 1n))).toThrow(/not after/);
    expect(() => state.check(rec(2n, 12n, 1n), 11n)).toThrow(/maxEpoch/);
  });
});
