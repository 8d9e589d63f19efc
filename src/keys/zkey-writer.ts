/**
 * Groth16 proving keys computed in the field, for keys whose secrets are known to the
 * process that makes them: development keys (secrets from a public seed) and `local` keys
 * (secrets from OS randomness, never written anywhere).
 *
 * The stock path derives a key from a powers-of-tau file whose secrets nobody knows: it must
 * move every point through FFTs over the curve (`powersoftau prepare phase2`), which took
 * 8.7 minutes at 2^14 on the 2-core development machine and grows to hours at 2^17. With
 * tau, alpha, beta (and delta) at hand, each point of the key is its field value times the
 * group generator, computed by fast fixed-base multiplication (fixed-base.ts).
 *
 * `writeZkey` writes exactly the file that `snarkjs zkey new` writes from a prepared
 * powers-of-tau file with these secrets (same sections, order, coefficient encoding and
 * circuit hash). Without `phase2` the key has delta = 1 and no contribution (the input of a
 * phase-2 ceremony, or of snarkjs's `zkey beacon` for development keys). With `phase2` the
 * key already carries one contribution: delta = k, L and H divided by k, and a contribution
 * record with its proof of knowledge (phase2.ts), as `snarkjs zkey contribute` would leave
 * it, so that no file with delta = 1 ever exists.
 * @module
 */
import { readFile, rename } from 'node:fs/promises';
import { blake2b } from '@noble/hashes/blake2.js';
import { createBinFile, endWriteSection, startWriteSection, writeBigInt } from '@iden3/binfileutils';
import { buildBn128 } from 'ffjavascript';
import { FIELD_MODULUS as R, mod } from '../crypto/field.ts';
import { checkFieldHeader, leBytesToBigint, readSections, viewOf } from '../crypto/binfile.ts';
import { fixedBaseMultiply } from './fixed-base.ts';
import { contributionHash, encodeMpcParams, makeContribution } from './phase2.ts';

/** The phase-1 secrets of a key. */
export interface Phase1Secrets {
  tau: bigint;
  alpha: bigint;
  beta: bigint;
}

/** A phase-2 contribution made while writing the key. */
export interface Phase2Secret {
  /** The secret delta (non-zero, not 1). */
  delta: bigint;
  /** The contributor's name in the record (at most 64 bytes are kept). */
  name: string;
  /** Randomness for the proof of knowledge (node:crypto's by default). */
  random?: (n: number) => Uint8Array;
}

// ---- field helpers (bigint) ----
const mul = (a: bigint, b: bigint) => (a * b) % R;
/** b^e mod r. */
export function pow(b: bigint, e: bigint): bigint {
  let r = 1n;
  let x = b % R;
  while (e > 0n) {
    if (e & 1n) r = (r * x) % R;
    x = (x * x) % R;
    e >>= 1n;
  }
  return r;
}
const inv = (a: bigint) => pow(a, R - 2n);

function batchInverse(xs: bigint[]): bigint[] {
  const n = xs.length;
  const prefix = new Array<bigint>(n);
  let acc = 1n;
  for (let i = 0; i < n; i++) {
    prefix[i] = acc;
    acc = (acc * xs[i]!) % R;
  }
  let invAcc = inv(acc);
  const out = new Array<bigint>(n);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = (invAcc * prefix[i]!) % R;
    invAcc = (invAcc * xs[i]!) % R;
  }
  return out;
}

/** L_i(tau) for i < count on the domain of size n with generator w (i.e. at w^i). */
export function lagrangeAt(tau: bigint, n: number, w: bigint, count: number, stride = 1, offset = 0): bigint[] {
  // L_i(x) = (x^n - 1) / n * w^i / (x - w^i)
  const zOverN = mul(pow(tau, BigInt(n)) - 1n + R, inv(BigInt(n)));
  const ws = new Array<bigint>(count);
  const wStep = pow(w, BigInt(stride));
  let wi = pow(w, BigInt(offset));
  for (let k = 0; k < count; k++) {
    ws[k] = wi;
    wi = (wi * wStep) % R;
  }
  const denInv = batchInverse(ws.map((x) => (tau - x + R) % R));
  return ws.map((x, k) => mul(mul(zOverN, x), denInv[k]!));
}

/** 32-byte little-endian encodings of field elements, back to back. */
export function scalarsToBytes(xs: readonly bigint[]): Uint8Array {
  const out = new Uint8Array(xs.length * 32);
  xs.forEach((x, i) => {
    const hex = x.toString(16).padStart(64, '0');
    for (let b = 0; b < 32; b++) out[i * 32 + b] = parseInt(hex.slice(62 - 2 * b, 64 - 2 * b), 16);
  });
  return out;
}

// snarkjs's log2 (floor) for the domain size rule of zkey new.
function log2(v: number): number {
  return 31 - Math.clz32(v);
}

interface R1csRaw {
  nVars: number;
  nPublic: number;
  nConstraints: number;
  /** Byte image of the constraints section, and per constraint the offsets of its three linear combinations. */
  section: Uint8Array;
  terms: Array<{ matrix: 0 | 1 | 2; constraint: number; signal: number; coefOffset: number }>;
}

function readR1csRaw(bytes: Uint8Array): R1csRaw {
  const sections = readSections(bytes, 'r1cs', [1, 2]);
  const header = sections.get(1)!;
  const section = sections.get(2)!;
  const hv = viewOf(header);
  const at = checkFieldHeader(header, R, 'r1cs');
  const nVars = hv.getUint32(at, true);
  const nOutputs = hv.getUint32(at + 4, true);
  const nPubInputs = hv.getUint32(at + 8, true);
  const nConstraints = hv.getUint32(at + 24, true);
  const sdv = viewOf(section);
  const terms: R1csRaw['terms'] = [];
  let p = 0;
  for (let c = 0; c < nConstraints; c++) {
    for (const matrix of [0, 1, 2] as const) {
      const nt = sdv.getUint32(p, true);
      p += 4;
      for (let t = 0; t < nt; t++) {
        terms.push({ matrix, constraint: c, signal: sdv.getUint32(p, true), coefOffset: p + 4 });
        p += 36;
      }
    }
  }
  return { nVars, nPublic: nOutputs + nPubInputs, nConstraints, section, terms };
}

export type Progress = (phase: string, done: number, total: number) => void;

/**
 * Writes the zkey that `snarkjs zkey new` would write for `r1csPath` from a prepared
 * powers-of-tau file with secrets tau, alpha, beta (gamma = 1), and with `phase2` the key
 * after one contribution of delta (see the module comment); without it delta = 1.
 * @returns the circuit hash (blake2b-512) recorded in the key, and the contribution's hash.
 * @throws Error if the r1cs is not over BN254; RangeError for a delta of 0 or 1.
 */
export async function writeZkey(r1csPath: string, zkeyPath: string, secrets: Phase1Secrets, opts: { phase2?: Phase2Secret; onProgress?: Progress } = {}): Promise<{ csHash: Uint8Array; contributionHash?: string }> {
  const { tau, alpha, beta } = secrets;
  const { phase2, onProgress } = opts;
  const delta = phase2 ? mod(phase2.delta, R) : 1n;
  if (phase2 && (delta === 0n || delta === 1n)) throw new RangeError('phase2.delta must not be 0 or 1');
  const curve = await buildBn128(true);
  const { Fr, G1, G2 } = curve;
  const r1cs = readR1csRaw(new Uint8Array(await readFile(r1csPath)));
  const { nVars, nPublic, nConstraints } = r1cs;
  const cirPower = log2(nConstraints + nPublic + 1 - 1) + 1;
  const n = 2 ** cirPower;
  const wn: bigint = Fr.toObject(Fr.w[cirPower]);
  const w2n: bigint = Fr.toObject(Fr.w[cirPower + 1]);

  onProgress?.('field', 0, 1);
  const L = lagrangeAt(tau, n, wn, nConstraints + nPublic + 1);
  const coef = (off: number) => leBytesToBigint(r1cs.section.subarray(off, off + 32));
  const A = new Array<bigint>(nVars).fill(0n);
  const B = new Array<bigint>(nVars).fill(0n);
  const C = new Array<bigint>(nVars).fill(0n);
  for (const t of r1cs.terms) {
    const v = mul(coef(t.coefOffset), L[t.constraint]!);
    const arr = t.matrix === 0 ? A : t.matrix === 1 ? B : C;
    arr[t.signal] = (arr[t.signal]! + v) % R;
  }
  // Public inputs get an extra row each so that their A polynomials are independent.
  for (let s = 0; s <= nPublic; s++) A[s] = (A[s]! + L[nConstraints + s]!) % R;
  const K = A.map((a, j) => (mul(beta, a) + mul(alpha, B[j]!) + C[j]!) % R);
  const H = lagrangeAt(tau, 2 * n, w2n, n, 2, 1);
  const tauN1 = (pow(tau, BigInt(n)) - 1n + R) % R;
  const hHash = new Array<bigint>(n - 1);
  for (let i = 0, t = 1n; i < n - 1; i++, t = (t * tau) % R) hHash[i] = mul(t, tauN1);
  onProgress?.('field', 1, 1);

  // With a contribution, L and H are divided by delta. The circuit hash is zkey new's, that
  // is of the key before any contribution: it needs L with delta = 1 as well.
  const deltaInv = phase2 ? pow(delta, R - 2n) : 1n;
  const lOne = K.slice(nPublic + 1);
  const lKey = phase2 ? lOne.map((x) => mul(x, deltaInv)) : [];
  const hKey = phase2 ? H.map((x) => mul(x, deltaInv)) : H;

  // One fixed-base pass per group over every scalar the key needs.
  const g1Scalars = [alpha, beta, delta, ...K.slice(0, nPublic + 1), ...hKey, ...hHash, ...lOne, ...lKey, ...A, ...B];
  const g1 = await fixedBaseMultiply('G1', scalarsToBytes(g1Scalars), { onProgress: (d, t) => onProgress?.('G1 points', d, t) });
  const g2 = await fixedBaseMultiply('G2', scalarsToBytes([beta, delta, ...B]), { onProgress: (d, t) => onProgress?.('G2 points', d, t) });
  let o1 = 0;
  const take1 = (k: number) => g1.subarray(64 * o1, 64 * (o1 += k));
  const [alpha1, beta1, delta1, ic, hPts, hHashPts, lOnePts, lKeyPts, aPts, b1Pts] = [1, 1, 1, nPublic + 1, n, n - 1, nVars - nPublic - 1, lKey.length, nVars, nVars].map(take1) as Uint8Array[] as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const beta2 = g2.subarray(0, 128);
  const delta2 = g2.subarray(128, 256);
  const b2Pts = g2.subarray(256);

  const csHasher = blake2b.create({ dkLen: 64 });
  const hashU32 = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, false);
    csHasher.update(b);
  };
  const g1U = (pts: Uint8Array) => G1.batchLEMtoU(pts) as Promise<Uint8Array>;
  const g2U = (pts: Uint8Array) => G2.batchLEMtoU(pts) as Promise<Uint8Array>;

  const tmp = `${zkeyPath}.tmp`;
  const fd = await createBinFile(tmp, 'zkey', 1, 10, 1 << 22, 1 << 24);
  await startWriteSection(fd, 1);
  await fd.writeULE32(1); // Groth16
  await endWriteSection(fd);

  await startWriteSection(fd, 2);
  await fd.writeULE32(32);
  await writeBigInt(fd, curve.q, 32);
  await fd.writeULE32(32);
  await writeBigInt(fd, curve.r, 32);
  await fd.writeULE32(nVars);
  await fd.writeULE32(nPublic);
  await fd.writeULE32(n);
  const gen1 = new Uint8Array(64);
  G1.toRprLEM(gen1, 0, G1.g);
  const gen2 = new Uint8Array(128);
  G2.toRprLEM(gen2, 0, G2.g);
  for (const p of [alpha1, beta1, beta2, gen2, phase2 ? delta1 : gen1, phase2 ? delta2 : gen2]) await fd.write(p);
  for (const [p, g] of [[alpha1, 1], [beta1, 1], [beta2, 2], [gen2, 2], [gen1, 1], [gen2, 2]] as const) csHasher.update(await (g === 1 ? g1U(p) : g2U(p)));
  await endWriteSection(fd);

  // Section 4: the A and B coefficients (times R^2, as zkey new stores them), then one row per public input.
  onProgress?.('coefficients', 0, 1);
  const R2r = Fr.e(mod((1n << 256n) * (1n << 256n), R));
  const rows = r1cs.terms.filter((t) => t.matrix !== 2);
  const sec4 = new Uint8Array(4 + (rows.length + nPublic + 1) * 44);
  const dv4 = new DataView(sec4.buffer);
  dv4.setUint32(0, rows.length + nPublic + 1, true);
  const one = new Uint8Array(32);
  Fr.toRprLE(one, 0, Fr.e(1));
  let p4 = 4;
  const writeCoef = (matrix: number, c: number, s: number, raw: Uint8Array) => {
    dv4.setUint32(p4, matrix, true);
    dv4.setUint32(p4 + 4, c, true);
    dv4.setUint32(p4 + 8, s, true);
    Fr.toRprLE(sec4, p4 + 12, Fr.mul(Fr.fromRprLE(raw, 0), R2r));
    p4 += 44;
  };
  // zkey new lists, per constraint, its A terms then its B terms.
  for (const t of rows) writeCoef(t.matrix, t.constraint, t.signal, r1cs.section.subarray(t.coefOffset, t.coefOffset + 32));
  for (let s = 0; s <= nPublic; s++) writeCoef(0, nConstraints + s, s, one);
  await startWriteSection(fd, 4);
  await fd.write(sec4);
  await endWriteSection(fd);

  // `hashed`: the points of the key before any contribution, which the circuit hash covers.
  const writePoints = async (id: number, pts: Uint8Array, count: number, g: 1 | 2, hashed = pts) => {
    hashU32(count);
    await startWriteSection(fd, id);
    await fd.write(pts);
    await endWriteSection(fd);
    csHasher.update(await (g === 1 ? g1U(hashed) : g2U(hashed)));
  };
  await writePoints(3, ic, nPublic + 1, 1);
  await startWriteSection(fd, 9);
  await fd.write(hPts);
  await endWriteSection(fd);
  hashU32(n - 1);
  csHasher.update(await g1U(hHashPts));
  await writePoints(8, phase2 ? lKeyPts : lOnePts, nVars - nPublic - 1, 1, lOnePts);
  await writePoints(5, aPts, nVars, 1);
  await writePoints(6, b1Pts, nVars, 1);
  await writePoints(7, b2Pts, nVars, 2);

  const csHash = csHasher.digest();
  const record = phase2 ? makeContribution(curve, { csHash, previous: [], prevDelta1: G1.g, k: delta, name: phase2.name, random: phase2.random }) : undefined;
  if (record && !G1.eq(record.deltaAfter, G1.fromRprLEM(delta1, 0))) throw new Error('internal: the contribution record disagrees with delta');
  await startWriteSection(fd, 10);
  await fd.write(encodeMpcParams(curve, { csHash, contributions: record ? [record] : [] }));
  await endWriteSection(fd);
  await fd.close();
  await rename(tmp, zkeyPath);
  onProgress?.('coefficients', 1, 1);
  return { csHash, ...(record ? { contributionHash: contributionHash(curve, record) } : {}) };
}

