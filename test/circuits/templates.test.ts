/**
 * The circuit templates against the same frozen vectors as the TypeScript reference, and
 * tampered witnesses on the Merkle path templates (digit selectors, siblings, roots).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import vectors from '../vectors/crypto.json' with { type: 'json' };
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { QuadTree } from '../../src/crypto/quad-tree.ts';
import { loadTestCircuit, tamper, type TestCircuit } from '../helpers/circuit.ts';

const HARNESS = `pragma circom 2.1.6;
include "../../../circuits/lib/record-commitment.circom";
include "../../../circuits/lib/agent-leaf.circom";
include "../../../circuits/lib/quad-merkle.circom";

template Harness() {
    signal input record[8];
    signal input leaf[10];
    signal input leafIndex;
    signal input siblings[3][3];
    signal input newLeaf;
    signal output commitment;
    signal output leafHash;
    signal output root;
    signal output oldRoot;
    signal output newRoot;
    component c = RecordCommitment();
    c.agent <== record[0]; c.org <== record[1]; c.epoch <== record[2]; c.kept <== record[3];
    c.broken <== record[4]; c.violations <== record[5]; c.scope <== record[6]; c.salt <== record[7];
    commitment <== c.commitment;
    component l = AgentLeaf();
    l.agent <== leaf[0]; l.nextAgent <== leaf[1]; l.nextIndex <== leaf[2]; l.kept <== leaf[3]; l.broken <== leaf[4];
    l.violations <== leaf[5]; l.records <== leaf[6]; l.orgCount <== leaf[7]; l.orgRoot <== leaf[8]; l.ext <== leaf[9];
    leafHash <== l.hash;
    component m = QuadMerkleRoot(3);
    m.leaf <== l.hash; m.index <== leafIndex; m.siblings <== siblings;
    root <== m.root;
    component u = QuadMerkleUpdate(3);
    u.oldLeaf <== l.hash; u.newLeaf <== newLeaf; u.index <== leafIndex; u.siblings <== siblings;
    oldRoot <== u.oldRoot;
    newRoot <== u.newRoot;
}
component main = Harness();
`;

let c: TestCircuit;
const FIELDS = ['agent', 'org', 'epoch', 'kept', 'broken', 'violations', 'scope', 'salt'];

function inputFor(i: number, leafIndex: number) {
  const rec = vectors.records[i]!;
  const leaf = vectors.leaves[i % vectors.leaves.length]!;
  const tree = new QuadTree(3);
  for (let k = 0; k < 64; k += 5) tree.set(k, BigInt(k * 1000 + 1));
  tree.set(leafIndex, BigInt(leaf.hash));
  const path = tree.path(leafIndex);
  const root = tree.root;
  tree.set(leafIndex, 42n);
  return {
    input: { record: FIELDS.map((k) => BigInt((rec as Record<string, string>)[k]!)), leaf: leaf.fields.map(BigInt), leafIndex: BigInt(leafIndex), siblings: path, newLeaf: 42n },
    expected: { commitment: BigInt(rec.commitment), leafHash: BigInt(leaf.hash), root, newRoot: tree.root },
  };
}

beforeAll(async () => {
  c = await loadTestCircuit('template-harness', { source: HARNESS });
});

describe('templates against the frozen vectors', () => {
  it.each(vectors.records.map((_, i) => [i]))('record %i: commitment, leaf, membership and update roots', async (i) => {
    const leafIndex = [0, 1, 2, 3, 17, 63][i]!;
    const { input, expected } = inputFor(i, leafIndex);
    const w = await c.witness(input);
    expect(c.check(w)).toBe(-1);
    expect(w[c.wire('main.commitment')]).toBe(expected.commitment);
    expect(w[c.wire('main.leafHash')]).toBe(expected.leafHash);
    expect(w[c.wire('main.root')]).toBe(expected.root);
    expect(w[c.wire('main.oldRoot')]).toBe(expected.root);
    expect(w[c.wire('main.newRoot')]).toBe(expected.newRoot);
  });

  it('refuses a leaf position outside the tree', async () => {
    const { input } = inputFor(0, 5);
    await expect(c.witness({ ...input, leafIndex: 64n })).rejects.toThrow(/Assert Failed/);
    await expect(c.witness({ ...input, leafIndex: FIELD_MODULUS - 1n })).rejects.toThrow(/Assert Failed/);
  });

  it('path digit bits must be boolean and the root must follow the path', async () => {
    const { input } = inputFor(0, 6);
    const w = await c.witness(input);
    // Position 6 = digits (2, 1): bit 1 of level 0 is 1. Setting a bit to 2 or flipping it breaks the constraints.
    expect(c.check(tamper(c, w, { 'main.m.bits.out[1]': 2n }))).toBeGreaterThanOrEqual(0);
    expect(c.check(tamper(c, w, { 'main.m.bits.out[1]': 0n }))).toBeGreaterThanOrEqual(0);
    expect(c.check(tamper(c, w, { 'main.root': w[c.wire('main.root')]! + 1n }))).toBeGreaterThanOrEqual(0);
    expect(c.check(tamper(c, w, { 'main.commitment': w[c.wire('main.commitment')]! + 1n }))).toBeGreaterThanOrEqual(0);
  });
});
