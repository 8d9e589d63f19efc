/**
 * State snapshots: a restored state equals the original in everything the prover reads (root,
 * chain, leaves, paths, the witnesses of further records); corrupted, truncated, foreign and
 * hostile snapshots are refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OutcomeRecord } from '../../src/crypto/commitment.ts';
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { AgentState, type AppliedEntry } from '../../src/state/agent-state.ts';
import { sha256 } from '@noble/hashes/sha2.js';
import { decodeSnapshot } from '../../src/state/snapshot.ts';
import { packSummary } from '../../src/crypto/agent-leaf.ts';
import { levelOffsets } from '../../src/crypto/quad-tree.ts';

const SHAPE = { agentDepth: 3, orgDepth: 2 };

const entry = (agent: bigint, org: bigint, orgIndex: number, k: number): AppliedEntry => ({
  record: { agent, org, epoch: BigInt(k), kept: BigInt(k % 7), broken: BigInt(k % 3), violations: BigInt(k % 2), scope: 0n, salt: FIELD_MODULUS - 1n - BigInt(k) } satisfies OutcomeRecord,
  orgIndex,
});

/** A state after `n` records over a few agents and organisations (agents out of order). */
function stateAfter(n: number, agents: bigint[] = [900n, 300n, 600n, 100n, 2n ** 251n]): AgentState {
  const s = new AgentState(SHAPE);
  for (let k = 0; k < n; k++) s.apply(entry(agents[k % agents.length]!, 50n + BigInt(k % 3), k % 3, k));
  return s;
}

describe('state snapshots', () => {
  it('round-trips: same root, chain, count, leaves and paths', () => {
    for (const n of [0, 1, 7, 23]) {
      const s = stateAfter(n);
      const r = AgentState.fromSnapshot(SHAPE, s.toSnapshot());
      expect([r.root, r.chain, r.applied, r.agentCount]).toEqual([s.root, s.chain, s.applied, s.agentCount]);
      for (let i = 0; i <= s.agentCount; i++) {
        expect(r.leafAt(i)).toEqual(s.leafAt(i));
        expect(r.pathAt(i)).toEqual(s.pathAt(i));
      }
      expect([...r.orgEpochs()]).toEqual([...s.orgEpochs()]);
    }
  });

  it('a restored state goes on exactly as the original (same witnesses and roots)', () => {
    fc.assert(
      fc.property(fc.nat(20), fc.array(fc.tuple(fc.constantFrom(100n, 250n, 600n, 777n, 900n, 2n ** 251n), fc.nat(2)), { minLength: 1, maxLength: 12 }), (before, next) => {
        const s = stateAfter(before);
        const r = AgentState.fromSnapshot(SHAPE, s.toSnapshot());
        return next.every(([agent, o], k) => {
          const e = entry(agent, 50n + BigInt(o), o, 1000 + k);
          return JSON.stringify(r.apply(e), (_, v) => (typeof v === 'bigint' ? v.toString() : v)) === JSON.stringify(s.apply(e), (_, v) => (typeof v === 'bigint' ? v.toString() : v)) && r.root === s.root;
        });
      }),
      { numRuns: 30 },
    );
  });

  it('the restored state is independent of the original', () => {
    const s = stateAfter(5);
    const r = AgentState.fromSnapshot(SHAPE, s.toSnapshot());
    const root = s.root;
    r.apply(entry(4242n, 51n, 1, 99));
    expect(s.root).toBe(root);
  });

  it('refuses a flipped byte anywhere, truncation, trailing bytes and another shape', () => {
    const bytes = stateAfter(9).toSnapshot();
    for (const at of [0, 5, 20, 100, bytes.length >> 1, bytes.length - 40, bytes.length - 1]) {
      const bad = bytes.slice();
      bad[at]! ^= 1;
      expect(() => AgentState.fromSnapshot(SHAPE, bad), `byte ${at}`).toThrow(/checksum/);
    }
    expect(() => AgentState.fromSnapshot(SHAPE, bytes.subarray(0, bytes.length - 1))).toThrow(RangeError);
    expect(() => AgentState.fromSnapshot(SHAPE, new Uint8Array(10))).toThrow(/truncated/);
    expect(() => AgentState.fromSnapshot({ agentDepth: 4, orgDepth: 2 }, bytes)).toThrow(/another state shape/);
    for (const hostile of [undefined, null, 'snapshot', [1, 2, 3], {}]) expect(() => decodeSnapshot(hostile as unknown as Uint8Array)).toThrow(RangeError);
  });

  it('behind a valid checksum, still refuses another magic, version, shape or a non-canonical element', () => {
    const bytes = stateAfter(3).toSnapshot();
    const body = bytes.subarray(0, bytes.length - 32);
    const resealed = (edit: (b: Uint8Array) => void) => {
      const b = body.slice();
      edit(b);
      return Uint8Array.from([...b, ...sha256(b)]);
    };
    expect(() => decodeSnapshot(resealed((b) => (b[0] = 0)))).toThrow(/not a zktrust state snapshot/);
    expect(() => decodeSnapshot(resealed((b) => (b[4] = 9)))).toThrow(/version 9/);
    expect(() => decodeSnapshot(resealed((b) => (b[8] = 0)))).toThrow(/shape out of range/);
    // The chain (offset 16) set to 0xff..ff: not below r.
    expect(() => decodeSnapshot(resealed((b) => b.fill(0xff, 16, 48)))).toThrow(/non-canonical/);
    expect(() => decodeSnapshot(Uint8Array.from([...body, 0, ...sha256(Uint8Array.from([...body, 0]))]))).toThrow(/trailing/);
  });

  // The layout written by hand (docs in src/state/snapshot.ts), each level's pairs in the
  // order `order` gives: the format does not depend on how a tree holds its nodes.
  function handWritten(state: AgentState, order: <T>(xs: T[]) => T[], duplicate = false): Uint8Array {
    const parts = decodeSnapshot(state.toSnapshot());
    const out: number[] = [];
    const u32 = (x: number) => out.push(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff);
    const field = (x: bigint) => out.push(...Buffer.from(x.toString(16).padStart(64, '0'), 'hex'));
    const tree = (nodes: Map<number, bigint>, depth: number) => {
      const offsets = levelOffsets(depth);
      for (let l = 0; l <= depth; l++) {
        const hi = l < depth ? offsets[l + 1]! : offsets[l]! + 1;
        const pairs = order([...nodes].filter(([k]) => k >= offsets[l]! && k < hi));
        if (duplicate && l === 0 && pairs.length > 0) pairs.push(pairs[0]!);
        u32(pairs.length);
        for (const [k, v] of pairs) (u32(k - offsets[l]!), field(v));
      }
    };
    out.push(0x5a, 0x4b, 0x54, 0x53);
    [2, parts.agentDepth, parts.orgDepth].forEach(u32);
    field(parts.chain);
    (u32(parts.applied), u32(0), u32(parts.leaves.length));
    parts.leaves.forEach((leaf, k) => {
      for (const x of [leaf.agent, leaf.nextAgent, packSummary(leaf.summary), leaf.ext]) field(x);
      tree(parts.orgNodes[k]!, parts.orgDepth);
    });
    tree(parts.treeNodes, parts.agentDepth);
    return Uint8Array.from([...out, ...sha256(Uint8Array.from(out))]);
  }

  it('reads the layout whatever the order of nodes within a level, and refuses a node given twice', () => {
    const original = stateAfter(11);
    for (const order of [<T>(xs: T[]) => xs, <T>(xs: T[]) => [...xs].reverse()]) {
      const restored = AgentState.fromSnapshot(SHAPE, handWritten(original, order));
      expect(restored.root).toBe(original.root);
      // It goes on as the original: the same witnesses and roots for further records.
      const copy = original.clone();
      for (let k = 11; k < 16; k++) {
        const e = entry([900n, 300n, 7n][k % 3]!, 50n, k % 3, k);
        expect(restored.apply(e)).toEqual(copy.apply(e));
        expect(restored.root).toBe(copy.root);
      }
    }
    expect(() => AgentState.fromSnapshot(SHAPE, handWritten(original, (xs) => xs, true))).toThrow(/twice/);
  });
});
