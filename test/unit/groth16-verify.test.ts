/**
 * The Groth16 verifier, single and batch, on real proofs of a small circuit with keys from
 * the stock snarkjs ceremony path; every altered input is rejected, and snarkjs agrees.
 */
import * as snarkjs from 'snarkjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { verifyGroth16, verifyGroth16Batch, type Groth16ProofJson } from '../../src/verifier/groth16.ts';
import { stockKeys, type StockKeys } from '../helpers/stock-keys.ts';

const SQUARE = `pragma circom 2.1.6;
template Square() { signal input x; signal input y; signal input tag; signal output z; z <== x * x + y; signal t <== tag * tag; }
component main {public [y, tag]} = Square();
`;
const OTHER = `pragma circom 2.1.6;
template Cube() { signal input x; signal input y; signal input tag; signal output z; signal x2 <== x * x; z <== x2 * x + y; signal t <== tag * tag; }
component main {public [y, tag]} = Cube();
`;

let keys: StockKeys;
let other: StockKeys;
const proofs: Array<{ proof: Groth16ProofJson; publicSignals: string[] }> = [];

beforeAll(async () => {
  keys = await stockKeys('verify-square', SQUARE);
  other = await stockKeys('verify-cube', OTHER);
  for (let i = 0; i < 6; i++) {
    const { proof, publicSignals } = await snarkjs.groth16.fullProve({ x: 3 + i, y: 10 * i, tag: 7 }, keys.circuit.wasmPath, keys.zkeyPath);
    proofs.push({ proof, publicSignals });
  }
});

describe('verifyGroth16', () => {
  it('accepts honest proofs, as snarkjs does', async () => {
    for (const p of proofs) {
      expect(await verifyGroth16(keys.vkey, p.publicSignals, p.proof)).toBe(true);
      expect(await snarkjs.groth16.verify(keys.vkey, p.publicSignals, p.proof as snarkjs.Groth16Proof)).toBe(true);
    }
  });

  it('rejects each public signal +1; +r and truncation are malformed', async () => {
    const { proof, publicSignals } = proofs[0]!;
    for (let i = 0; i < publicSignals.length; i++) {
      const plus1 = [...publicSignals];
      plus1[i] = String(BigInt(plus1[i]!) + 1n);
      expect(await verifyGroth16(keys.vkey, plus1, proof)).toBe(false);
      const plusR = [...publicSignals];
      plusR[i] = String(BigInt(plusR[i]!) + FIELD_MODULUS);
      await expect(verifyGroth16(keys.vkey, plusR, proof)).rejects.toThrow(RangeError);
    }
    await expect(verifyGroth16(keys.vkey, publicSignals.slice(0, -1), proof)).rejects.toThrow(RangeError);
    await expect(verifyGroth16(keys.vkey, [...publicSignals, '0'], proof)).rejects.toThrow(RangeError);
  });

  it('rejects another proof, another circuit\'s key and altered proof points', async () => {
    const [a, b] = proofs;
    expect(await verifyGroth16(keys.vkey, a!.publicSignals, b!.proof)).toBe(false);
    expect(await verifyGroth16(other.vkey, a!.publicSignals, a!.proof)).toBe(false);
    const swapped = { ...a!.proof, pi_a: b!.proof.pi_a };
    expect(await verifyGroth16(keys.vkey, a!.publicSignals, swapped)).toBe(false);
    const offCurve = { ...a!.proof, pi_c: [a!.proof.pi_c[0]!, String(BigInt(a!.proof.pi_c[1]!) + 1n), '1'] };
    expect(await verifyGroth16(keys.vkey, a!.publicSignals, offCurve)).toBe(false);
  });

  it('throws TypeError or RangeError on hostile input', async () => {
    const { proof, publicSignals } = proofs[0]!;
    for (const bad of [null, 5, 'x', [1], { pi_a: [], pi_b: [], pi_c: [] }]) {
      await expect(verifyGroth16(keys.vkey, publicSignals, bad as never)).rejects.toThrow(TypeError);
    }
    for (const bad of [['-1', '2', '3'], ['0x10', '2', '3'], ['1.5', '2', '3'], [Symbol('x'), '2', '3'], ['01', '2', '3'], [1, '2', '3']]) {
      await expect(verifyGroth16(keys.vkey, bad as never, proof)).rejects.toThrow(TypeError);
    }
    await expect(verifyGroth16(keys.vkey, 'nope' as never, proof)).rejects.toThrow(TypeError);
  });
});

describe('verifyGroth16Batch', () => {
  it('accepts a batch of honest proofs and rejects a batch with one altered signal', async () => {
    expect(await verifyGroth16Batch(keys.vkey, proofs)).toBe(true);
    for (let k = 0; k < proofs.length; k++) {
      const bad = proofs.map((p, i) => (i === k ? { ...p, publicSignals: [p.publicSignals[0]!, String(BigInt(p.publicSignals[1]!) + 1n), p.publicSignals[2]!] } : p));
      expect(await verifyGroth16Batch(keys.vkey, bad)).toBe(false);
    }
  });

  it('rejects two swapped proofs that a careless combination would accept', async () => {
    const [a, b] = proofs;
    const swapped = [{ ...a!, proof: b!.proof }, { ...b!, proof: a!.proof }];
    expect(await verifyGroth16Batch(keys.vkey, swapped)).toBe(false);
  });

  it('is empty-safe and validates every item', async () => {
    expect(await verifyGroth16Batch(keys.vkey, [])).toBe(true);
    await expect(verifyGroth16Batch(keys.vkey, [{ publicSignals: ['1'], proof: proofs[0]!.proof }])).rejects.toThrow(RangeError);
  });
});
