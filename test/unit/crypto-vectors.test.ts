/**
 * The TypeScript reference against the frozen vectors (Poseidon from an independent
 * implementation), plus properties of the quaternary tree and hostile inputs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import vectors from '../vectors/crypto.json' with { type: 'json' };
import { agentLeafHash, packSummary, unpackSummary } from '../../src/crypto/agent-leaf.ts';
import { chainStep } from '../../src/crypto/chain.ts';
import { recordCommitment, type OutcomeRecord } from '../../src/crypto/commitment.ts';
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { packOrgSlot, unpackOrgSlot } from '../../src/crypto/org-slot.ts';
import { poseidon } from '../../src/crypto/poseidon.ts';
import { poseidon4 } from '../../src/crypto/poseidon-constants/inputs-4.ts';
import { emptyRoot, QuadTree, quadRootFromPath } from '../../src/crypto/quad-tree.ts';
import { POLICY_V1, POLICY_V2, policyHash } from '../../src/crypto/score-policy.ts';
import { configuration } from '../../src/build/build-circuits.ts';
import { genesisRoot } from '../../src/state/agent-state.ts';

const big = (xs: string[]) => xs.map(BigInt);
const HOSTILE: unknown[] = [NaN, -5n, 5, '5', Symbol('x'), null, undefined, {}, [1n], FIELD_MODULUS, new Uint8Array(32)];

describe('Poseidon', () => {
  it.each(vectors.poseidon.map((v) => [v.inputs.length, v]))('matches circomlibjs with %i inputs', (_, v) => {
    expect(poseidon(big(v.inputs))).toBe(BigInt(v.out));
  });

  it('refuses non-canonical and hostile inputs', () => {
    for (const h of HOSTILE) expect(() => poseidon([1n, h as bigint])).toThrow(h === FIELD_MODULUS || h === -5n ? RangeError : TypeError);
    expect(() => poseidon([1n, 2n, 3n, 4n, 5n, 6n, 7n])).toThrow(RangeError);
    expect(() => poseidon('12' as unknown as bigint[])).toThrow(TypeError);
  });

  it('has each width hash exactly its own input count, as `poseidon` does', () => {
    const v = vectors.poseidon.find((x) => x.inputs.length === 4)!;
    expect(poseidon4(big(v.inputs))).toBe(BigInt(v.out));
    expect(() => poseidon4([1n, 2n, 3n])).toThrow(RangeError);
    expect(() => poseidon4([1n, 2n, 3n, FIELD_MODULUS])).toThrow(RangeError);
  });
});

describe('records, chain, leaves', () => {
  it('commitments match the vectors', () => {
    for (const v of vectors.records) {
      const r = Object.fromEntries(['agent', 'org', 'epoch', 'kept', 'broken', 'violations', 'scope', 'salt'].map((k) => [k, BigInt((v as Record<string, string>)[k]!)])) as unknown as OutcomeRecord;
      expect(recordCommitment(r)).toBe(BigInt(v.commitment));
    }
  });

  it('commitments refuse out-of-range fields', () => {
    const ok = vectors.records[0]!;
    const base = Object.fromEntries(Object.entries(ok).filter(([k]) => k !== 'commitment').map(([k, v]) => [k, BigInt(v)])) as unknown as OutcomeRecord;
    expect(() => recordCommitment({ ...base, agent: 0n })).toThrow(RangeError);
    expect(() => recordCommitment({ ...base, agent: 1n << 252n })).toThrow(RangeError);
    expect(() => recordCommitment({ ...base, kept: 1n << 32n })).toThrow(RangeError);
    expect(() => recordCommitment({ ...base, salt: FIELD_MODULUS })).toThrow(RangeError);
    for (const h of HOSTILE) {
      if (typeof h === 'bigint' && h >= 0n && h < 1n << 32n) continue;
      expect(() => recordCommitment({ ...base, epoch: h as bigint })).toThrow();
    }
    expect(() => recordCommitment(null as unknown as OutcomeRecord)).toThrow(TypeError);
  });

  it('chain steps match the vectors', () => {
    for (const v of vectors.chainSteps) {
      expect(chainStep(BigInt(v.chain), { commitment: BigInt(v.commitment), org: BigInt(v.org), orgIndex: v.orgIndex })).toBe(BigInt(v.out));
    }
  });

  it('agent leaves match the vectors', () => {
    for (const v of vectors.leaves) {
      const f = big(v.fields);
      const leaf = { agent: f[0]!, nextAgent: f[1]!, summary: unpackSummary(f[2]!), ext: f[3]!, orgs: f.slice(4) };
      expect(agentLeafHash(leaf)).toBe(BigInt(v.hash));
    }
    expect(() => agentLeafHash({ agent: 1n, nextAgent: 0n, summary: unpackSummary(0n), ext: 0n, orgs: [0n] })).toThrow(RangeError);
  });

  it('summaries pack and unpack as the vectors, and refuse fields over 48 bits', () => {
    for (const v of vectors.summaries) {
      const [successes, trials, records, orgCount] = big(v.fields) as [bigint, bigint, bigint, bigint];
      expect(packSummary({ successes, trials, records, orgCount })).toBe(BigInt(v.summary));
      expect(unpackSummary(BigInt(v.summary))).toEqual({ successes, trials, records, orgCount });
    }
    expect(() => packSummary({ successes: 1n << 48n, trials: 0n, records: 0n, orgCount: 0n })).toThrow(RangeError);
    expect(() => unpackSummary(1n << 192n)).toThrow(RangeError);
  });

  it('organisation slots pack and unpack as the vectors, and refuse fields over their widths', () => {
    for (const v of vectors.orgSlots) {
      const [nextEpoch, successes, trials, cappedSuccesses, cappedTrials] = big(v.fields) as [bigint, bigint, bigint, bigint, bigint];
      const slot = { nextEpoch, successes, trials, cappedSuccesses, cappedTrials };
      expect(packOrgSlot(slot, POLICY_V2)).toBe(BigInt(v.slot));
      expect(unpackOrgSlot(BigInt(v.slot), POLICY_V2)).toEqual(slot);
    }
    const zero = unpackOrgSlot(0n, POLICY_V2);
    expect(() => packOrgSlot({ ...zero, nextEpoch: 1n << 33n }, POLICY_V2)).toThrow(RangeError);
    expect(() => packOrgSlot({ ...zero, cappedTrials: 1024n }, POLICY_V2)).toThrow(RangeError);
    expect(() => unpackOrgSlot(1n << 137n, POLICY_V2)).toThrow(RangeError);
  });

  it('policy hashes match the vectors', () => {
    expect(String(policyHash(POLICY_V1))).toBe(vectors.policyHashes.v1);
    expect(String(policyHash(POLICY_V2))).toBe(vectors.policyHashes.v2);
  });

  it('empty roots and genesis roots match the vectors', () => {
    vectors.emptyRoots.forEach((z, k) => expect(emptyRoot(k)).toBe(BigInt(z)));
    for (const name of ['test', 'production'] as const) {
      const { config } = configuration(name);
      expect(genesisRoot(config)).toBe(BigInt(vectors.genesisRoots[name]));
    }
  });
});

describe('QuadTree', () => {
  it('every path leads to the root, for random sparse trees', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(63), fc.bigInt({ min: 1n, max: FIELD_MODULUS - 1n })), { maxLength: 20 }), (writes) => {
        const t = new QuadTree(3);
        for (const [i, v] of writes) t.set(i, v);
        for (let i = 0; i < 64; i += 7) expect(quadRootFromPath(t.get(i), i, t.path(i))).toBe(t.root);
      }),
      { numRuns: 40 },
    );
  });

  it('is independent of write order and returns to the empty root when cleared', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(63), { maxLength: 10 }), (idx) => {
        const a = new QuadTree(3);
        const b = new QuadTree(3);
        idx.forEach((i) => a.set(i, BigInt(i + 1)));
        [...idx].reverse().forEach((i) => b.set(i, BigInt(i + 1)));
        expect(a.root).toBe(b.root);
        idx.forEach((i) => a.set(i, 0n));
        expect(a.root).toBe(emptyRoot(3));
      }),
      { numRuns: 40 },
    );
  });

  it('refuses positions outside the tree and hostile values', () => {
    const t = new QuadTree(2);
    for (const i of [-1, 16, 1.5, NaN]) expect(() => t.set(i, 1n)).toThrow(RangeError);
    expect(() => t.set(0, FIELD_MODULUS)).toThrow(RangeError);
    expect(() => t.set(0, 1 as unknown as bigint)).toThrow(TypeError);
    expect(() => new QuadTree(0)).toThrow(RangeError);
    expect(() => quadRootFromPath(1n, 16, t.path(0))).toThrow(RangeError);
  });
});

describe('the service hasher', () => {
  it('computes the same commitments as the reference, on the frozen vectors', async () => {
    const { initFastHash, fastCommitment } = await import('../../src/engines/fast-hash.ts');
    await initFastHash();
    for (const v of vectors.records) {
      const r = Object.fromEntries(['agent', 'org', 'epoch', 'kept', 'broken', 'violations', 'scope', 'salt'].map((k) => [k, BigInt((v as Record<string, string>)[k]!)])) as unknown as OutcomeRecord;
      expect(fastCommitment(r)).toBe(BigInt(v.commitment));
    }
  });
});

describe('AgentState.clone', () => {
  it('is independent of the original and equal to it', async () => {
    const { AgentState } = await import('../../src/state/agent-state.ts');
    const s = new AgentState({ agentDepth: 3, orgDepth: 2 });
    const rec = (agent: bigint, org: bigint, i: number, epoch = 1n) => ({ record: { agent, org, epoch, kept: 2n, broken: 1n, violations: 0n, scope: 0n, salt: BigInt(i + 1) }, orgIndex: i % 3 });
    s.apply(rec(50n, 7n, 0));
    s.apply(rec(20n, 8n, 1));
    const c = s.clone();
    expect(c.root).toBe(s.root);
    expect(c.chain).toBe(s.chain);
    const a = c.apply(rec(35n, 9n, 2));
    const b = s.apply(rec(35n, 9n, 2));
    expect(a).toEqual(b);
    expect(c.root).toBe(s.root);
    c.apply(rec(50n, 9n, 2, 2n));
    expect(c.root).not.toBe(s.root);
    expect(s.lookup(50n)!.leaf.summary.records).toBe(1n);
    expect(c.lookup(50n)!.leaf.summary.records).toBe(2n);
  });
});
