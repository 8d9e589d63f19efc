/**
 * The circuit templates against the same frozen vectors as the TypeScript reference (record
 * commitments, summaries, organisation slots, agent leaves), the influence cap against its
 * twin, the Merkle templates against QuadTree, and tampered witnesses on the Merkle path
 * templates (digit selectors, siblings, roots).
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import vectors from '../vectors/crypto.json' with { type: 'json' };
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { QuadTree } from '../../src/crypto/quad-tree.ts';
import { POLICY_V2, cappedContribution } from '../../src/crypto/score-policy.ts';
import { expectAssertAt, loadTestCircuit, tamper, type TestCircuit } from '../helpers/circuit.ts';

const P = POLICY_V2;
const HARNESS = `pragma circom 2.1.6;
include "../../../circuits/lib/record-commitment.circom";
include "../../../circuits/lib/agent-leaf.circom";
include "../../../circuits/lib/org-slot.circom";
include "../../../circuits/lib/quad-merkle.circom";

template Harness() {
    signal input record[8];
    signal input leaf[8];
    signal input slot;
    signal input leafIndex;
    signal input siblings[3][3];
    signal input newLeaf;
    signal input raw[2];
    signal output commitment;
    signal output leafHash;
    signal output summaryFields[4];
    signal output slotFields[5];
    signal output repacked;
    signal output capped[2];
    signal output root;
    signal output oldRoot;
    signal output newRoot;
    signal output oldTop[4];
    signal output newTop[4];
    signal output singleTop[4];
    component c = RecordCommitment();
    c.agent <== record[0]; c.org <== record[1]; c.epoch <== record[2]; c.kept <== record[3];
    c.broken <== record[4]; c.violations <== record[5]; c.scope <== record[6]; c.salt <== record[7];
    commitment <== c.commitment;
    component l = AgentLeaf();
    l.agent <== leaf[0]; l.nextAgent <== leaf[1]; l.summary <== leaf[2]; l.ext <== leaf[3];
    for (var j = 0; j < 4; j++) l.orgs[j] <== leaf[4 + j];
    leafHash <== l.hash;
    component u = UnpackSummary();
    u.summary <== leaf[2];
    summaryFields[0] <== u.successes; summaryFields[1] <== u.trials; summaryFields[2] <== u.records; summaryFields[3] <== u.orgCount;
    component s = UnpackOrgSlot(${P.recordCap}, ${P.orgCap * P.trialUnits});
    s.slot <== slot;
    slotFields[0] <== s.nextEpoch; slotFields[1] <== s.successes; slotFields[2] <== s.trials;
    slotFields[3] <== s.cappedSuccesses; slotFields[4] <== s.cappedTrials;
    component p = PackOrgSlot(${P.recordCap}, ${P.orgCap * P.trialUnits});
    p.nextEpoch <== s.nextEpoch; p.successes <== s.successes; p.trials <== s.trials;
    p.cappedSuccesses <== s.cappedSuccesses; p.cappedTrials <== s.cappedTrials;
    repacked <== p.slot;
    component cap = CappedContribution(42, ${P.orgCap}, ${P.trialUnits});
    cap.successes <== raw[0]; cap.trials <== raw[1];
    capped[0] <== cap.cappedSuccesses; capped[1] <== cap.cappedTrials;
    component m = QuadMerkleRoot(3);
    m.leaf <== l.hash; m.index <== leafIndex; m.siblings <== siblings;
    root <== m.root;
    component up = QuadMerkleUpdate(3);
    up.oldLeaf <== l.hash; up.newLeaf <== newLeaf; up.index <== leafIndex; up.siblings <== siblings;
    oldRoot <== up.oldRoot;
    newRoot <== up.newRoot;
    component top = QuadMerkleUpdateTop(3);
    top.oldLeaf <== l.hash; top.newLeaf <== newLeaf; top.index <== leafIndex; top.siblings <== siblings;
    oldTop <== top.oldChildren;
    newTop <== top.newChildren;
    component single = QuadSingletonTop(3);
    single.leaf <== newLeaf; single.index <== leafIndex;
    singleTop <== single.children;
}
component main = Harness();
`;

let c: TestCircuit;
const FIELDS = ['agent', 'org', 'epoch', 'kept', 'broken', 'violations', 'scope', 'salt'];
const big = (xs: string[]) => xs.map(BigInt);

function inputFor(i: number, leafIndex: number, raw: [bigint, bigint] = [3n, 4n]) {
  const rec = vectors.records[i]!;
  const leaf = vectors.leaves[i % vectors.leaves.length]!;
  const slot = vectors.orgSlots[i % vectors.orgSlots.length]!;
  const tree = new QuadTree(3);
  for (let k = 0; k < 64; k += 5) tree.set(k, BigInt(k * 1000 + 1));
  tree.set(leafIndex, BigInt(leaf.hash));
  const path = tree.path(leafIndex);
  const root = tree.root;
  const oldTop = tree.topChildren();
  tree.set(leafIndex, 42n);
  const single = new QuadTree(3);
  single.set(leafIndex, 42n);
  return {
    input: { record: FIELDS.map((k) => BigInt((rec as Record<string, string>)[k]!)), leaf: big(leaf.fields), slot: BigInt(slot.slot), leafIndex: BigInt(leafIndex), siblings: path, newLeaf: 42n, raw },
    expected: { commitment: BigInt(rec.commitment), leafHash: BigInt(leaf.hash), root, newRoot: tree.root, oldTop, newTop: tree.topChildren(), singleTop: single.topChildren(), slot },
  };
}
const out = (w: bigint[], name: string, n: number) => Array.from({ length: n }, (_, k) => w[c.wire(`main.${name}[${k}]`)]);

beforeAll(async () => {
  c = await loadTestCircuit('template-harness', { source: HARNESS });
});

describe('templates against the frozen vectors', () => {
  it.each(vectors.records.map((_, i) => [i]))('record %i: commitment, leaf, packings, membership, update and top roots', async (i) => {
    const leafIndex = [0, 1, 2, 3, 17, 63][i]!;
    const { input, expected } = inputFor(i, leafIndex);
    const w = await c.witness(input);
    expect(c.check(w)).toBe(-1);
    expect(w[c.wire('main.commitment')]).toBe(expected.commitment);
    expect(w[c.wire('main.leafHash')]).toBe(expected.leafHash);
    expect(out(w, 'summaryFields', 4)).toEqual(big(vectors.summaries[(i % vectors.leaves.length) + 1]!.fields));
    expect(out(w, 'slotFields', 5)).toEqual(big(expected.slot.fields));
    expect(w[c.wire('main.repacked')]).toBe(BigInt(expected.slot.slot));
    expect(w[c.wire('main.root')]).toBe(expected.root);
    expect(w[c.wire('main.oldRoot')]).toBe(expected.root);
    expect(w[c.wire('main.newRoot')]).toBe(expected.newRoot);
    expect(out(w, 'oldTop', 4)).toEqual(expected.oldTop);
    expect(out(w, 'newTop', 4)).toEqual(expected.newTop);
    expect(out(w, 'singleTop', 4)).toEqual(expected.singleTop);
  });

  it('CappedContribution equals its twin, with the successes rounded down to a unit', async () => {
    const cases: Array<[bigint, bigint]> = [[0n, 0n], [0n, 5n], [3n, 4n], [8n, 8n], [8n, 9n], [999n, 1000n], [1n, 3n], [2n ** 41n, 2n ** 42n - 1n], [2n ** 42n - 1n, 2n ** 42n - 1n]];
    // And random evidence: s <= n < 2^42, the widths of an organisation slot.
    for (const [a, b] of fc.sample(fc.tuple(fc.bigInt({ min: 0n, max: 2n ** 42n - 1n }), fc.bigInt({ min: 0n, max: 2n ** 42n - 1n })), { numRuns: 20, seed: 42 })) {
      cases.push(a <= b ? [a, b] : [b, a]);
    }
    for (const [s, n] of cases) {
      const { input } = inputFor(0, 5, [s, n]);
      const w = await c.witness(input);
      const twin = cappedContribution({ successes: s, trials: n });
      expect(out(w, 'capped', 2), `${s}/${n}`).toEqual([twin.successes, twin.trials]);
    }
  });

  it('refuses a leaf position outside the tree', async () => {
    const { input } = inputFor(0, 5);
    await expect(c.witness({ ...input, leafIndex: 64n })).rejects.toThrow(/Assert Failed/);
    await expect(c.witness({ ...input, leafIndex: FIELD_MODULUS - 1n })).rejects.toThrow(/Assert Failed/);
  });

  it('refuses an organisation slot or a summary with bits outside its fields', async () => {
    const { input } = inputFor(0, 5);
    await expectAssertAt(c, { ...input, slot: 1n << 137n }, 'UnpackOrgSlot', 'org-slot.circom', 'slot === pack.slot;');
    await expectAssertAt(c, { ...input, leaf: [...input.leaf.slice(0, 2), 1n << 192n, ...input.leaf.slice(3)] }, 'UnpackSummary', 'agent-leaf.circom', 'summary === successes');
  });

  it('path digit bits must be boolean and the root must follow the path', async () => {
    const { input } = inputFor(0, 6);
    const w = await c.witness(input);
    // Position 6 = digits (2, 1): bit 1 of level 0 is 1. Setting a bit to 2 or flipping it breaks the constraints.
    expect(c.check(tamper(c, w, { 'main.m.bits.out[1]': 2n }))).toBeGreaterThanOrEqual(0);
    expect(c.check(tamper(c, w, { 'main.m.bits.out[1]': 0n }))).toBeGreaterThanOrEqual(0);
    expect(c.check(tamper(c, w, { 'main.root': w[c.wire('main.root')]! + 1n }))).toBeGreaterThanOrEqual(0);
    expect(c.check(tamper(c, w, { 'main.commitment': w[c.wire('main.commitment')]! + 1n }))).toBeGreaterThanOrEqual(0);
    expect(c.check(tamper(c, w, { 'main.oldTop[3]': w[c.wire('main.oldTop[3]')]! + 1n }))).toBeGreaterThanOrEqual(0);
  });
});
