/**
 * A minimal reader of circom's .r1cs binary format (header and constraints) and a checker
 * that evaluates every constraint A*B = C against a witness. Used to show that a tampered
 * witness is rejected by the constraint system itself, independent of the witness generator.
 * Pure: takes bytes, does no I/O.
 * @module
 */
import { FIELD_MODULUS, bytesToBigint } from './field.ts';

export type LinearCombination = Array<[wire: number, coef: bigint]>;
export interface R1cs {
  prime: bigint;
  nWires: number;
  nPubOut: number;
  nPubIn: number;
  nPrvIn: number;
  nLabels: number;
  constraints: Array<[LinearCombination, LinearCombination, LinearCombination]>;
}

/**
 * Parses an .r1cs file.
 * @throws Error if the magic, version or field size is not what circom writes.
 */
export function parseR1cs(bytes: Uint8Array): R1cs {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(0, 4));
  if (magic !== 'r1cs') throw new Error('not an r1cs file');
  if (dv.getUint32(4, true) !== 1) throw new Error('unsupported r1cs version');
  const nSections = dv.getUint32(8, true);
  let pos = 12;
  const sections = new Map<number, { start: number; size: number }>();
  for (let i = 0; i < nSections; i++) {
    const type = dv.getUint32(pos, true);
    const size = Number(dv.getBigUint64(pos + 4, true));
    sections.set(type, { start: pos + 12, size });
    pos += 12 + size;
  }
  const h = sections.get(1);
  const c = sections.get(2);
  if (!h || !c) throw new Error('r1cs without header or constraints');
  let p = h.start;
  const n8 = dv.getUint32(p, true);
  p += 4;
  const le = (at: number) => bytesToBigint(bytes.slice(at, at + n8).reverse());
  const prime = le(p);
  p += n8;
  const u32 = () => {
    const v = dv.getUint32(p, true);
    p += 4;
    return v;
  };
  const nWires = u32();
  const nPubOut = u32();
  const nPubIn = u32();
  const nPrvIn = u32();
  const nLabels = Number(dv.getBigUint64(p, true));
  p += 8;
  const nConstraints = u32();
  p = c.start;
  const readLc = (): LinearCombination => {
    const n = u32();
    const lc: LinearCombination = [];
    for (let i = 0; i < n; i++) {
      const w = u32();
      lc.push([w, le(p)]);
      p += n8;
    }
    return lc;
  };
  const constraints: R1cs['constraints'] = [];
  for (let i = 0; i < nConstraints; i++) constraints.push([readLc(), readLc(), readLc()]);
  return { prime, nWires, nPubOut, nPubIn, nPrvIn, nLabels, constraints };
}

function evalLc(lc: LinearCombination, w: readonly bigint[]): bigint {
  let acc = 0n;
  for (const [wire, coef] of lc) acc += coef * w[wire]!;
  return acc % FIELD_MODULUS;
}

/**
 * Returns the index of the first constraint the witness violates, or -1 if all hold.
 * @throws RangeError if the witness length does not match the r1cs or witness[0] is not 1.
 */
export function firstViolatedConstraint(r1cs: R1cs, witness: readonly bigint[]): number {
  if (witness.length !== r1cs.nWires) throw new RangeError(`witness has ${witness.length} wires, r1cs ${r1cs.nWires}`);
  if (witness[0] !== 1n) throw new RangeError('witness[0] must be 1');
  for (let i = 0; i < r1cs.constraints.length; i++) {
    const [a, b, c] = r1cs.constraints[i]!;
    if ((evalLc(a, witness) * evalLc(b, witness) - evalLc(c, witness)) % FIELD_MODULUS !== 0n) return i;
  }
  return -1;
}
