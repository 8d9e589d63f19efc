/**
 * Reading the Groth16 parts of a snarkjs .zkey that key management needs: the header
 * (section 2: sizes and the alpha, beta, gamma, delta points), the verification key, and the
 * curve to read them with. Proving keys are parsed for proving in src/prover.
 * @module
 */
import { buildBn128 } from 'ffjavascript';
import { readSections, viewOf } from '../crypto/binfile.ts';
import type { Groth16VerificationKey } from '../verifier/groth16.ts';

export type Curve = any; // ffjavascript's curve object (untyped)
export type Point = Uint8Array; // a point in ffjavascript's internal form

let single: Promise<Curve> | undefined;
/**
 * BN254 without worker threads, for the few point operations of reading and writing key
 * records (threads would keep the calling process alive).
 */
export function keyCurve(): Promise<Curve> {
  single ??= buildBn128(true);
  return single;
}

export const G1_SIZE = 64;
export const G2_SIZE = 128;

export interface GrothHeader {
  nVars: number;
  nPublic: number;
  domainSize: number;
  alpha1: Point;
  beta1: Point;
  beta2: Point;
  gamma2: Point;
  delta1: Point;
  delta2: Point;
  /** Byte offset of delta1 in section 2 (delta2 follows it). */
  deltaAt: number;
}

/**
 * Parses section 2 of a Groth16 zkey.
 * @throws Error if it is not a BN254 Groth16 header.
 */
export function readGrothHeader(curve: Curve, section: Uint8Array): GrothHeader {
  const v = viewOf(section);
  const n8q = v.getUint32(0, true);
  if (n8q !== 32 || v.getUint32(4 + n8q, true) !== 32) throw new Error('not a BN254 key');
  let p = 4 + 32 + 4 + 32;
  const nVars = v.getUint32(p, true);
  const nPublic = v.getUint32(p + 4, true);
  const domainSize = v.getUint32(p + 8, true);
  p += 12;
  // alpha1 (G1), beta1 (G1), beta2 (G2), gamma2 (G2), delta1 (G1), delta2 (G2).
  const deltaAt = p + 2 * G1_SIZE + 2 * G2_SIZE;
  if (section.byteLength !== deltaAt + G1_SIZE + G2_SIZE) throw new Error('unexpected Groth16 header size');
  return {
    nVars,
    nPublic,
    domainSize,
    alpha1: curve.G1.fromRprLEM(section, p),
    beta1: curve.G1.fromRprLEM(section, p + G1_SIZE),
    beta2: curve.G2.fromRprLEM(section, p + 2 * G1_SIZE),
    gamma2: curve.G2.fromRprLEM(section, p + 2 * G1_SIZE + G2_SIZE),
    delta1: curve.G1.fromRprLEM(section, deltaAt),
    delta2: curve.G2.fromRprLEM(section, deltaAt + G1_SIZE),
    deltaAt,
  };
}

const strings = (x: unknown): unknown =>
  typeof x === 'bigint' ? x.toString() : Array.isArray(x) ? x.map(strings) : typeof x === 'object' && x !== null ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, strings(v)])) : x;

/**
 * The verification key of a Groth16 zkey, exactly as `snarkjs zkey export verificationkey`
 * writes it (including vk_alphabeta_12).
 * @throws Error if the bytes are not a BN254 Groth16 zkey.
 */
export async function verificationKeyOf(bytes: Uint8Array): Promise<Groth16VerificationKey> {
  const curve = await keyCurve();
  const s = readSections(bytes, 'zkey', [1, 2, 3]);
  if (viewOf(s.get(1)!).getUint32(0, true) !== 1) throw new Error('not a Groth16 key');
  const h = readGrothHeader(curve, s.get(2)!);
  const ic = s.get(3)!;
  if (ic.byteLength !== (h.nPublic + 1) * G1_SIZE) throw new Error('the IC section has the wrong size');
  const alphaBeta = await curve.pairing(h.alpha1, h.beta2);
  return strings({
    protocol: 'groth16',
    curve: 'bn128',
    nPublic: h.nPublic,
    vk_alpha_1: curve.G1.toObject(h.alpha1),
    vk_beta_2: curve.G2.toObject(h.beta2),
    vk_gamma_2: curve.G2.toObject(h.gamma2),
    vk_delta_2: curve.G2.toObject(h.delta2),
    vk_alphabeta_12: curve.Gt.toObject(alphaBeta),
    IC: Array.from({ length: h.nPublic + 1 }, (_, i) => curve.G1.toObject(curve.G1.fromRprLEM(ic, i * G1_SIZE))),
  }) as Groth16VerificationKey;
}

/**
 * The same iden3 container (a zkey, say) with some sections' contents replaced, every section
 * in its original order.
 * @throws Error if `bytes` is not a container of that magic.
 */
export function replaceSections(bytes: Uint8Array, magic: string, replace: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [bytes.subarray(0, 12)];
  for (const [id, content] of readSections(bytes, magic)) {
    const body = replace.get(id) ?? content;
    const head = new Uint8Array(12);
    const v = new DataView(head.buffer);
    v.setUint32(0, id, true);
    v.setBigUint64(4, BigInt(body.byteLength), true);
    parts.push(head, body);
  }
  return Buffer.concat(parts);
}
