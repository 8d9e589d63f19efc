/**
 * The Groth16 engine (src/prover/groth16-engine.ts) and its native G1 and G2
 * multiexponentiation (native/msm-bn254.c), against ffjavascript and snarkjs on the test
 * configuration's keys: the native MSM equals ffjavascript's on hostile inputs (infinity, repeated and opposite
 * points, zero and maximal scalars); proofs from both MSM paths verify with snarkjs and
 * src/verifier; a tampered witness gives a proof that does not verify; malformed keys and
 * witnesses are refused with a clear error.
 */
import { readFile } from 'node:fs/promises';
import { WitnessCalculatorBuilder } from 'circom_runtime';
import * as snarkjs from 'snarkjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configuration } from '../../src/build/build-circuits.ts';
import { contextHash } from '../../src/crypto/context.ts';
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { POLICY_V2, policyHash } from '../../src/crypto/score-policy.ts';
import { loadAddon } from '../../src/native/addon.ts';
import { loadCircuitArtifacts, type LoadedCircuit } from '../../src/prover/artifacts.ts';
import { readSections } from '../../src/crypto/binfile.ts';
import { ProvingKey } from '../../src/prover/groth16-engine.ts';
import { AgentState } from '../../src/state/agent-state.ts';
import { buildBatch } from '../../src/state/batch.ts';
import { buildThresholdInput } from '../../src/state/threshold-input.ts';
import { verifyGroth16 } from '../../src/verifier/groth16.ts';
import { cpuHasAsm } from '../helpers/cpu.ts';

interface MsmAddon {
  useAsm(on?: boolean): boolean;
  msm(group: 1 | 2, bases: Uint8Array, scalars: Uint8Array, out: Uint8Array): void;
  msmAsync(group: 1 | 2, bases: Uint8Array, scalars: Uint8Array, out: Uint8Array): Promise<void>;
}

const { config } = configuration('test');
let threshold: LoadedCircuit;
let zkey: Uint8Array;
let wtns: Uint8Array;
let native: ProvingKey;
let wasmOnly: ProvingKey;
let addon: MsmAddon;
let curve: any;

function le(x: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = Number((x >> BigInt(8 * i)) & 0xffn);
  return out;
}

beforeAll(async () => {
  threshold = await loadCircuitArtifacts('test', 'threshold', { quiet: true });
  zkey = new Uint8Array(await readFile(threshold.zkeyPath));
  const reasons: string[] = [];
  native = await ProvingKey.parse(zkey, { onNativeUnavailable: (r) => reasons.push(r) });
  // This machine has a C compiler and Node's headers: the native path must be the one tested.
  expect(reasons).toEqual([]);
  expect(native.nativeMsm).toBe(true);
  wasmOnly = await ProvingKey.parse(zkey, { native: false });
  expect(wasmOnly.nativeMsm).toBe(false);
  addon = (await loadAddon<MsmAddon>('msm-bn254'))!;
  curve = native.curve;

  const state = new AgentState({ agentDepth: config.agentDepth, orgDepth: config.orgDepth });
  const ph = policyHash(POLICY_V2);
  const entries = [1n, 2n, 1n].map((agent, k) => ({ record: { agent, org: 7n, epoch: 20_000n + BigInt(k), kept: 9n, broken: 1n, violations: 0n, scope: 0n, salt: 50n + BigInt(k) }, orgIndex: 0 }));
  buildBatch(state, entries, { insertSlots: config.insertSlots, updateSlots: config.updateSlots }, ph, 20_010n);
  const ctx = contextHash({ nonce: 'n', audience: 'a', expiry: 2_000_000_000 });
  const { input } = buildThresholdInput(state, { agent: 1n, minScore: 100n, minRecords: 2n, minOrgs: 1n, contextHash: ctx }, ph);
  const calc = await WitnessCalculatorBuilder(new Uint8Array(await readFile(threshold.wasmPath)));
  wtns = await calc.calculateWTNSBin(input, false);
});

describe('native field arithmetic', () => {
  it('uses the assembly exactly where the CPU has BMI2 and ADX, and can be switched', () => {
    expect(addon.useAsm(false)).toBe(false);
    expect(addon.useAsm()).toBe(false);
    const on = addon.useAsm(true);
    if (cpuHasAsm !== undefined) expect(on).toBe(cpuHasAsm);
    expect(addon.useAsm()).toBe(on);
    expect(() => addon.useAsm('yes' as never)).toThrow(TypeError);
  });
});

describe.each([
  [1, 'asm'],
  [1, 'portable'],
  [2, 'asm'],
  [2, 'portable'],
] as const)('native multiexponentiation on G%i, %s arithmetic', (group, mode) => {
  beforeAll(() => {
    const on = addon.useAsm(mode === 'asm');
    // Where the CPU lacks the extensions the 'asm' runs are a second portable run.
    if (mode === 'portable' || cpuHasAsm) expect(on).toBe(mode === 'asm');
  });
  afterAll(() => addon.useAsm(true));

  const G = () => (group === 1 ? curve.G1 : curve.G2);
  const size = 64 * group; // bytes per affine point
  /** Affine points (LEM) and scalars (LE, 32 bytes each) in the addon's layout. */
  function layout(points: unknown[], scalars: bigint[]): { bases: Uint8Array; sc: Uint8Array } {
    const bases = new Uint8Array(size * points.length);
    points.forEach((p, i) => G().toRprLEM(bases, size * i, p));
    const sc = new Uint8Array(32 * scalars.length);
    scalars.forEach((s, i) => sc.set(le(s), 32 * i));
    return { bases, sc };
  }
  async function both(points: unknown[], scalars: bigint[]): Promise<[unknown, unknown]> {
    const { bases, sc } = layout(points, scalars);
    const out = new Uint8Array(1.5 * size);
    await addon.msmAsync(group, bases, sc, out);
    const sync = new Uint8Array(1.5 * size);
    addon.msm(group, bases, sc, sync);
    expect(G().eq(out, sync)).toBe(true);
    return [out, await G().multiExpAffine(bases, sc)];
  }
  const keyPoints = (n: number): unknown[] => Array.from({ length: n }, (_, i) => G().fromRprLEM(group === 1 ? native.pointsA : native.pointsB2, size * i));
  // Key points that are not infinity (a wire that never appears in A or B has none).
  const finitePoints = (n: number): unknown[] => keyPoints(native.nVars).filter((p) => !G().isZero(p)).slice(0, n);

  it('equals ffjavascript on the key points with random scalars, for every window size', async () => {
    for (const n of [1, 5, 31, 32, 100, 700]) {
      const points = keyPoints(Math.min(n, native.nVars));
      const scalars = points.map((_, i) => (BigInt(i + 1) * 0x9e3779b97f4a7c15f39cc0605cedc834n * 0x1234567n + BigInt(n)) % FIELD_MODULUS);
      const [ours, ref] = await both(points, scalars);
      expect(G().eq(ours, ref), `n = ${n}`).toBe(true);
    }
    // The whole B section with the witness-like scalars of the proofs, split as the engine splits it.
    const all = keyPoints(native.nVars);
    const scalars = all.map((_, i) => (BigInt(i) * 0x5851f42d4c957f2dn) % FIELD_MODULUS);
    const { bases, sc } = layout(all, scalars);
    expect(G().eq(await native.multiExp(group, bases, sc), await G().multiExpAffine(bases, sc))).toBe(true);
  });

  it('handles infinity, repeated, opposite points and extreme scalars', async () => {
    const [p, q] = finitePoints(2);
    const cases: [string, unknown[], bigint[]][] = [
      ['no points', [], []],
      ['all scalars zero', [p, q], [0n, 0n]],
      ['a base at infinity', [G().zero, p], [12345n, 7n]],
      ['the same point twice (a bucket doubles)', [p, p], [5n, 5n]],
      ['a point and its negation cancel', [p, G().neg(p)], [99n, 99n]],
      ['scalar r - 1', [p], [FIELD_MODULUS - 1n]],
      ['scalar 2^256 - 1', [q], [(1n << 256n) - 1n]],
      ['single high bit', [q, p], [1n << 253n, 1n]],
    ];
    for (const [name, points, scalars] of cases) {
      const [ours, ref] = await both(points, scalars);
      expect(G().eq(ours, ref), name).toBe(true);
    }
    const [cancel] = await both([p, G().neg(p)], [99n, 99n]);
    expect(G().isZero(cancel)).toBe(true);
    const [nonzero] = await both([p], [3n]);
    expect(G().isZero(nonzero)).toBe(false);
  });

  it('refuses arrays of the wrong sizes or types', () => {
    const out = new Uint8Array(1.5 * size);
    expect(() => addon.msm(group, new Uint8Array(size), new Uint8Array(64), out)).toThrow(/n \* 32 bytes/);
    expect(() => addon.msm(group, new Uint8Array(size + 1), new Uint8Array(32), out)).toThrow(RangeError);
    expect(() => addon.msm(group, new Uint8Array(size), new Uint8Array(32), new Uint8Array(64))).toThrow(/bytes/);
    expect(() => addon.msm(group, new Uint32Array(16 * group) as never, new Uint8Array(32), out)).toThrow(TypeError);
    expect(() => addon.msm(3 as never, new Uint8Array(size), new Uint8Array(32), out)).toThrow(/group must be 1/);
    expect(() => (addon.msm as (...a: unknown[]) => void)(group, new Uint8Array(size))).toThrow(TypeError);
  });
});

describe('Groth16 engine', () => {
  it('proves with native and WebAssembly multiexponentiation; both verify with snarkjs and src/verifier', async () => {
    const a = await native.prove(wtns);
    const b = await wasmOnly.prove(wtns);
    const ref = await snarkjs.groth16.prove({ type: 'mem', data: zkey }, { type: 'mem', data: wtns });
    expect(a.publicSignals).toEqual(ref.publicSignals);
    expect(b.publicSignals).toEqual(ref.publicSignals);
    for (const p of [a, b]) {
      expect(await snarkjs.groth16.verify(threshold.vkey, p.publicSignals, p.proof)).toBe(true);
      expect(await verifyGroth16(threshold.vkey as never, p.publicSignals, p.proof)).toBe(true);
    }
    // Fresh randomness per proof: the same witness never gives the same proof.
    expect(a.proof.pi_a).not.toEqual(b.proof.pi_a);
    expect(a.proof.pi_c).not.toEqual(ref.proof.pi_c);
  });

  it('a tampered witness gives a proof that does not verify', async () => {
    const sections = readSections(wtns, 'wtns');
    const values = sections.get(2)!;
    const offset = values.byteOffset - wtns.byteOffset;
    // A private wire (past the public ones), and a public one whose claimed value changes.
    for (const wire of [native.nPublic + 5, native.nVars - 1, 3]) {
      const bad = wtns.slice();
      bad[offset + 32 * wire] = bad[offset + 32 * wire]! ^ 1;
      const p = await native.prove(bad);
      expect(await snarkjs.groth16.verify(threshold.vkey, p.publicSignals, p.proof), `wire ${wire}`).toBe(false);
    }
  });

  it('refuses malformed witnesses and keys', async () => {
    await expect(native.prove(wtns.subarray(0, wtns.length - 32))).rejects.toThrow(/past the end/);
    const magic = wtns.slice();
    magic[0] = 0x78;
    await expect(native.prove(magic)).rejects.toThrow(/not a valid wtns file: wrong magic/);
    // A witness over another field: one byte of the header's prime changed.
    const otherField = wtns.slice();
    readSections(otherField, 'wtns').get(1)![4]! ^= 1;
    await expect(native.prove(otherField)).rejects.toThrow(/witness is not over the BN254 scalar field/);
    // A witness without its values section: the section's id renumbered.
    const noValues = wtns.slice();
    const values = readSections(noValues, 'wtns').get(2)!;
    new DataView(noValues.buffer).setUint32(values.byteOffset - 12, 7, true);
    await expect(native.prove(noValues)).rejects.toThrow(/not a valid wtns file: section 2 missing/);
    // A witness of another length (the batch circuit's).
    const batch = await loadCircuitArtifacts('test', 'batch-update', { quiet: true });
    const other = new Uint8Array(await readFile(batch.zkeyPath));
    const otherKey = await ProvingKey.parse(other);
    await expect(otherKey.prove(wtns)).rejects.toThrow(/invalid witness length/);

    await expect(ProvingKey.parse(zkey.subarray(0, 1000))).rejects.toThrow(/not a valid zkey file/);
    await expect(ProvingKey.parse(wtns)).rejects.toThrow(/wrong magic/);
    const noPlonk = zkey.slice();
    const kind = readSections(noPlonk, 'zkey').get(1)!;
    kind[0] = 2;
    await expect(ProvingKey.parse(noPlonk)).rejects.toThrow(/not a Groth16 key/);
    const noH = zkey.slice();
    const h = readSections(noH, 'zkey').get(9)!;
    new DataView(noH.buffer).setUint32(h.byteOffset - 12, 99, true);
    await expect(ProvingKey.parse(noH)).rejects.toThrow(/not a valid zkey file: section 9 missing/);
  });
});
