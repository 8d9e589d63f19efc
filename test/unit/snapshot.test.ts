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
import { emptyRoot } from '../../src/crypto/quad-tree.ts';
import { poseidon } from '../../src/crypto/poseidon.ts';

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
    // Version 2 (lists of bigints) is refused plainly: the aggregator replays the log instead.
    expect(() => decodeSnapshot(resealed((b) => (b[4] = 2)))).toThrow(/version 2 is not 3/);
    expect(() => decodeSnapshot(resealed((b) => (b[8] = 0)))).toThrow(/shape out of range/);
    // A leaf count the bytes do not hold (checked before anything is allocated for it).
    expect(() => decodeSnapshot(resealed((b) => b.fill(0xff, 56, 60)))).toThrow(/leaf count out of range/);
    expect(() => decodeSnapshot(resealed((b) => b.fill(0xff, 60, 64)))).toThrow(/truncated/);
    expect(() => decodeSnapshot(resealed((b) => (b[56] = 2)))).toThrow(/truncated|trailing/);
    // The chain (offset 16) set to 0xff..ff: not below r.
    expect(() => decodeSnapshot(resealed((b) => b.fill(0xff, 16, 48)))).toThrow(/non-canonical/);
    expect(() => decodeSnapshot(Uint8Array.from([...body, 0, ...sha256(Uint8Array.from([...body, 0]))]))).toThrow(/trailing/);
  });

  // The layout written by hand (docs in src/state/snapshot.ts) from the state's public API,
  // each position's organisation slots listed in the order `order` gives; `edit` may change
  // any array before it is written.
  type Layout = { agents: bigint[]; sorted: number[]; summaries: bigint[]; tops: bigint[]; heads: number[]; next: number[]; keys: number[]; slots: bigint[]; tree: bigint[][] };
  function handWritten(state: AgentState, order: <T>(xs: T[]) => T[], edit: (l: Layout) => void = () => {}): Uint8Array {
    const n = state.agentCount + 1;
    const leaves = Array.from({ length: n }, (_, i) => state.leafAt(i));
    const l: Layout = { agents: leaves.map((x) => x.agent), sorted: [], summaries: leaves.map((x) => packSummary(x.summary)), tops: leaves.flatMap((x) => [...x.orgs]), heads: [], next: [], keys: [], slots: [], tree: [state.leafHashes()] };
    l.sorted = l.agents.map((_, i) => i).sort((a, b) => (l.agents[a]! < l.agents[b]! ? -1 : 1));
    leaves.forEach((_, i) => {
      let head = 0;
      for (const [k, v] of order([...state.orgSetAt(i).leaves()])) {
        l.next.push(head);
        l.keys.push(k);
        l.slots.push(v);
        head = l.slots.length;
      }
      l.heads.push(head);
    });
    for (let level = 0; level < SHAPE.agentDepth; level++) {
      const below = l.tree[level]!;
      l.tree.push(Array.from({ length: Math.ceil(below.length / 4) }, (_, i) => poseidon([0, 1, 2, 3].map((j) => below[4 * i + j] ?? emptyRoot(level)))));
    }
    edit(l);
    const out: number[] = [];
    const u32 = (x: number) => out.push(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff);
    const words = (x: bigint, count: number) => Array.from({ length: count }, (_, k) => (x >> BigInt(64 * k)) & (2n ** 64n - 1n)).forEach((w) => (u32(Number(w & 0xffffffffn)), u32(Number(w >> 32n))));
    out.push(0x5a, 0x4b, 0x54, 0x53);
    [3, SHAPE.agentDepth, SHAPE.orgDepth].forEach(u32);
    out.push(...Buffer.from(state.chain.toString(16).padStart(64, '0'), 'hex'));
    [state.applied, 0, l.agents.length, l.keys.length].forEach(u32);
    l.agents.forEach((x) => words(x, 4));
    l.sorted.forEach(u32);
    l.summaries.forEach((x) => words(x, 3));
    l.tops.forEach((x) => words(x, 4));
    [...l.heads, ...l.next, ...l.keys].forEach(u32);
    l.slots.forEach((x) => words(x, 4));
    l.tree.flat().forEach((x) => words(x, 4));
    return Uint8Array.from([...out, ...sha256(Uint8Array.from(out))]);
  }

  it('reads the documented layout, whatever the order of the slots in a list', () => {
    const original = stateAfter(11);
    for (const order of [<T>(xs: T[]) => xs, <T>(xs: T[]) => [...xs].reverse()]) {
      const bytes = handWritten(original, order);
      const restored = AgentState.fromSnapshot(SHAPE, bytes);
      expect(restored.root).toBe(original.root);
      // It goes on as the original: the same witnesses and roots for further records.
      const copy = original.clone();
      for (let k = 11; k < 16; k++) {
        const e = entry([900n, 300n, 7n][k % 3]!, 50n, k % 3, k);
        expect(restored.apply(e)).toEqual(copy.apply(e));
        expect(restored.root).toBe(copy.root);
      }
    }
  });

  it('behind a valid checksum, refuses agents out of order or twice, and slot lists that are not separate lists', () => {
    const s = stateAfter(11);
    const refused = (edit: (l: Layout) => void, reason: RegExp) => expect(() => AgentState.fromSnapshot(SHAPE, handWritten(s, (xs) => xs, edit))).toThrow(reason);
    refused((l) => l.sorted.reverse(), /sentinel/);
    refused((l) => ([l.sorted[1], l.sorted[2]] = [l.sorted[2]!, l.sorted[1]!]), /increasing order/);
    refused((l) => (l.sorted[3] = l.sorted[2]!), /increasing order/);
    refused((l) => (l.sorted[3] = 99), /increasing order/);
    refused((l) => (l.agents[l.sorted[2]!] = l.agents[l.sorted[1]!]!), /increasing order|twice/);
    refused((l) => (l.heads[2] = l.heads[1]!), /separate lists/);
    refused((l) => (l.heads[1] = 0), /belongs to no owner/);
    refused((l) => (l.next[0] = 2), /separate lists/);
    refused((l) => (l.heads[1] = l.keys.length + 1), /separate lists/);
    refused((l) => (l.keys[0] = 16), /out of range or given twice/);
    refused((l) => {
      const e = l.heads[1]! - 1;
      l.keys[l.next[e]! - 1] = l.keys[e]!;
    }, /out of range or given twice/);
    refused((l) => (l.tree[1]![0] = FIELD_MODULUS), /non-canonical/);
    refused((l) => (l.slots[0] = FIELD_MODULUS + 1n), /non-canonical/);
  });
});
