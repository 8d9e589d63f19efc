/**
 * The compact agent state (typed arrays, src/state/agent-state.ts) against the plain one of
 * test/helpers/reference-state.ts (QuadTrees, Maps, bigints): random histories of records give
 * the same witness for every record and the same roots, leaves, paths, organisation sets and
 * slots, on several shapes; copies, snapshots and the one-pass builder (fromEntries) go on
 * exactly as the state they come from.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { unpackOrgSlot } from '../../src/crypto/org-slot.ts';
import { POLICY_V2 } from '../../src/crypto/score-policy.ts';
import { AgentState, type AppliedEntry, type StateShape } from '../../src/state/agent-state.ts';
import { ReferenceState } from '../helpers/reference-state.ts';

const SHAPES: StateShape[] = [{ agentDepth: 3, orgDepth: 2 }, { agentDepth: 2, orgDepth: 3 }, { agentDepth: 4, orgDepth: 1 }];

// Agents as the tests elsewhere make them (small numbers, multiples of a constant) and as
// identities are (anything below 2^252).
const agent = fc.oneof(
  fc.integer({ min: 1, max: 40 }).map(BigInt),
  fc.integer({ min: 1, max: 1000 }).map((i) => BigInt(i) * 0x9e3779b97f4a7c15n),
  fc.bigInt({ min: 1n, max: 2n ** 252n - 1n }),
);
const history = fc.record({
  shape: fc.constantFrom(...SHAPES),
  agents: fc.uniqueArray(agent, { minLength: 1, maxLength: 24 }),
  steps: fc.array(fc.record({ who: fc.nat(), org: fc.nat(), kept: fc.nat(30), broken: fc.nat(6), violations: fc.nat(2), gap: fc.nat(3) }), { minLength: 1, maxLength: 40 }),
});
type History = typeof history extends fc.Arbitrary<infer T> ? T : never;

/** The history's records, with epochs growing per (agent, organisation), that the state accepts in order. */
function entries({ shape, agents, steps }: History): AppliedEntry[] {
  const next = new Map<string, bigint>();
  const known = new Set<bigint>();
  const out: AppliedEntry[] = [];
  for (const s of steps) {
    const a = agents[s.who % agents.length]!;
    if (!known.has(a) && known.size >= 4 ** shape.agentDepth - 1) continue;
    known.add(a);
    const orgIndex = s.org % 4 ** shape.orgDepth;
    const epoch = (next.get(`${a}/${orgIndex}`) ?? 0n) + BigInt(s.gap);
    next.set(`${a}/${orgIndex}`, epoch + 1n);
    out.push({ record: { agent: a, org: 100n + BigInt(orgIndex), epoch, kept: BigInt(s.kept), broken: BigInt(s.broken), violations: BigInt(s.violations), scope: 0n, salt: 7n }, orgIndex });
  }
  return out;
}

/** A history's records cut in two somewhere. */
const split = fc.tuple(history, fc.nat()).map(([h, cut]) => {
  const es = entries(h);
  const at = cut % (es.length + 1);
  return { shape: h.shape, before: es.slice(0, at), after: es.slice(at) };
});

/** Everything the state shows of itself equals the reference's. */
function expectSameState(s: AgentState, ref: ReferenceState): void {
  expect(s.root).toBe(ref.root);
  expect(s.agentCount).toBe(ref.leaves.length - 1);
  expect(s.leafHashes()).toEqual(ref.leaves.map((_, i) => ref.tree.get(i)));
  const epochs: string[] = [];
  ref.leaves.forEach((l, i) => {
    expect(s.leafAt(i)).toEqual(ref.leaf(i));
    expect(s.pathAt(i)).toEqual(ref.tree.path(i));
    expect(s.orgSetAt(i).root).toBe(l.orgs.root);
    if (i === 0) return;
    expect(s.has(l.agent)).toBe(true);
    expect(s.lookup(l.agent)).toEqual({ leaf: ref.leaf(i), index: i, path: ref.tree.path(i) });
    for (const [orgIndex, slot] of l.orgs.leaves()) {
      expect(s.orgSlot(l.agent, orgIndex)).toEqual(unpackOrgSlot(slot, POLICY_V2));
      epochs.push(`${l.agent}/${orgIndex}/${unpackOrgSlot(slot, POLICY_V2).nextEpoch}`);
    }
  });
  expect([...s.orgEpochs()].map((e) => `${e.agent}/${e.orgIndex}/${e.nextEpoch}`).sort()).toEqual(epochs.sort());
}

describe('the compact agent state against the plain reference', () => {
  it('gives the same witness for every record, and the same roots, leaves, paths and slots', () => {
    fc.assert(
      fc.property(history, (h) => {
        const s = new AgentState(h.shape);
        const ref = new ReferenceState(h.shape);
        expect(s.root).toBe(ref.root);
        for (const e of entries(h)) {
          expect(s.apply(e)).toEqual(ref.apply(e));
          expect(s.root).toBe(ref.root);
        }
        expectSameState(s, ref);
      }),
      { numRuns: 40 },
    );
  });

  it('a copy and a restored snapshot go on exactly as the original, independently of it', () => {
    fc.assert(
      fc.property(split, ({ shape, before, after }) => {
        const s = new AgentState(shape);
        const ref = new ReferenceState(shape);
        for (const e of before) (s.apply(e), ref.apply(e));
        const root = s.root;
        const copies = [s.clone(), AgentState.fromSnapshot(shape, s.toSnapshot())];
        for (const e of after) {
          const w = ref.apply(e);
          for (const c of copies) expect(c.apply(e)).toEqual(w);
        }
        expect(s.root).toBe(root);
        for (const c of copies) expectSameState(c, ref);
      }),
      { numRuns: 25 },
    );
  });

  it('fromEntries builds the state applying the entries makes, which then goes on as it does', () => {
    fc.assert(
      fc.property(split, ({ shape, before, after }) => {
        const built = AgentState.fromEntries(shape, before);
        const ref = new ReferenceState(shape);
        for (const e of before) ref.apply(e);
        expectSameState(built, ref);
        for (const e of after) expect(built.apply(e)).toEqual(ref.apply(e));
        expect(built.root).toBe(ref.root);
      }),
      { numRuns: 25 },
    );
  });

  it('fromEntries refuses what apply refuses', () => {
    const shape = { agentDepth: 1, orgDepth: 1 };
    const e = (agent: bigint, epoch: bigint): AppliedEntry => ({ record: { agent, org: 9n, epoch, kept: 1n, broken: 0n, violations: 0n, scope: 0n, salt: 1n }, orgIndex: 0 });
    expect(() => AgentState.fromEntries(shape, [e(5n, 3n), e(5n, 2n)])).toThrow(/not after/);
    expect(() => AgentState.fromEntries(shape, [1n, 2n, 3n, 4n].map((a) => e(a, 1n)))).toThrow(/full/);
    expect(() => AgentState.fromEntries(shape, [{ ...e(5n, 1n), orgIndex: 4 }])).toThrow(RangeError);
  });

  it('refuses positions and organisation indexes it does not have, as before', () => {
    const s = new AgentState(SHAPES[0]!);
    s.apply({ record: { agent: 5n, org: 9n, epoch: 1n, kept: 1n, broken: 0n, violations: 0n, scope: 0n, salt: 1n }, orgIndex: 3 });
    for (const i of [-1, 2, 1.5]) {
      expect(() => s.leafAt(i)).toThrow(/no leaf/);
      expect(() => s.orgSetAt(i)).toThrow(/no leaf/);
    }
    expect(() => s.pathAt(64)).toThrow(RangeError);
    expect(s.pathAt(63)).toHaveLength(3);
    expect(() => s.orgSlot(5n, 16)).toThrow(RangeError);
    expect(s.orgSlot(6n, 16)).toEqual(s.orgSlot(6n, 0));
    expect([s.has(0n), s.lookup(0n), s.has(2n ** 300n), s.lookup(-5n)]).toEqual([false, undefined, false, undefined]);
  });
});
