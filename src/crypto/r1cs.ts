/**
 * A minimal reader of circom's .r1cs binary format (header and constraints) and a checker
 * that evaluates every constraint A*B = C against a witness. Used to show that a tampered
 * witness is rejected by the constraint system itself, independent of the witness generator.
 * Pure: takes bytes, does no I/O.
 * @module
 */
import { leBytesToBigint, readSections, viewOf } from './binfile.ts';
import { FIELD_MODULUS } from './field.ts';

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
  let sections: Map<number, Uint8Array>;
  try {
    sections = readSections(bytes, 'r1cs');
  } catch {
    throw new Error('not an r1cs file');
  }
  if (viewOf(bytes).getUint32(4, true) !== 1) throw new Error('unsupported r1cs version');
  const h = sections.get(1);
  const c = sections.get(2);
  if (!h || !c) throw new Error('r1cs without header or constraints');
  let dv = viewOf(h);
  let p = 0;
  const n8 = dv.getUint32(p, true);
  p += 4;
  let section = h;
  const le = (at: number) => leBytesToBigint(section.subarray(at, at + n8));
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
  section = c;
  dv = viewOf(c);
  p = 0;
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
