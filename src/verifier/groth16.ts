/**
 * Groth16 verification over BN254, one proof at a time or many at once.
 *
 * Single verification checks the standard equation
 *     e(A, B) = e(alpha, beta) * e(L(x), gamma) * e(C, delta),  L(x) = IC_0 + sum_i x_i IC_{i+1}
 * as one product of four pairings with one final exponentiation.
 *
 * Batch verification (proofs under one verification key) draws a random 128-bit r_i per
 * proof and checks the random linear combination
 *     prod_i e(r_i A_i, B_i) = e(sum r_i alpha, beta) * e(sum_i r_i L(x_i), gamma) * e(sum r_i C_i, delta)
 * which costs n + 3 Miller loops and one final exponentiation instead of 4n loops and n final
 * exponentiations. If any proof is invalid the combination holds with probability at most
 * about 2^-128 over the r_i, which the verifier draws after seeing the proofs.
 *
 * Inputs are checked before any pairing: every public signal canonical (below r), every
 * point on its curve, B in the prime-order subgroup of G2. Malformed input (wrong types or
 * shapes) throws TypeError or RangeError naming the parameter; a well-formed but invalid
 * proof returns false. Browser-safe: ffjavascript only, no Node-only imports.
 * @module
 */
import { buildBn128 } from 'ffjavascript';
import { canonicalJson } from '../crypto/canonical.ts';
import { FIELD_MODULUS, describe } from '../crypto/field.ts';

/** A Groth16 proof in snarkjs's JSON form (decimal strings, projective coordinates). */
export interface Groth16ProofJson {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol?: string;
  curve?: string;
}

/** A Groth16 verification key in snarkjs's JSON form. */
export interface Groth16VerificationKey {
  protocol: 'groth16';
  curve: string;
  nPublic: number;
  vk_alpha_1: string[];
  vk_beta_2: string[][];
  vk_gamma_2: string[][];
  vk_delta_2: string[][];
  IC: string[][];
}

type Curve = any; // ffjavascript's curve object (untyped)
let curvePromise: Promise<Curve> | undefined;

/**
 * The BN254 curve, built once per process: WebAssembly on the calling thread, without
 * worker threads (verification is a few pairings; threads would only keep processes and
 * browser tabs alive and cost a start-up).
 */
export function getCurve(): Promise<Curve> {
  curvePromise ??= buildBn128(true);
  return curvePromise;
}

const DEC = /^(0|[1-9][0-9]{0,77})$/;

function coord(x: unknown, name: string): bigint {
  if (typeof x !== 'string' || !DEC.test(x)) throw new TypeError(`${name} must be a decimal string, got ${describe(x)}`);
  return BigInt(x);
}

function g1(curve: Curve, p: unknown, name: string): Uint8Array {
  if (!Array.isArray(p) || p.length !== 3) throw new TypeError(`${name} must be an array of 3 decimal strings`);
  const q = curve.G1.F.p as bigint;
  const xyz = p.map((v, i) => coord(v, `${name}[${i}]`));
  if (xyz.some((v) => v >= q)) throw new RangeError(`${name} has a coordinate outside the base field`);
  return curve.G1.fromObject(xyz);
}

function g2(curve: Curve, p: unknown, name: string): Uint8Array {
  if (!Array.isArray(p) || p.length !== 3 || !p.every((c) => Array.isArray(c) && c.length === 2)) {
    throw new TypeError(`${name} must be an array of 3 pairs of decimal strings`);
  }
  const q = curve.G1.F.p as bigint;
  const xyz = (p as unknown[][]).map((c, i) => c.map((v, j) => coord(v, `${name}[${i}][${j}]`)));
  if (xyz.flat().some((v) => v >= q)) throw new RangeError(`${name} has a coordinate outside the base field`);
  return curve.G2.fromObject(xyz);
}

/**
 * Checks the shape of public signals: decimal strings (or bigints) of canonical field elements.
 * @throws TypeError for a non-array or a non-decimal element; RangeError for a count other
 *   than `expected` or a value >= r.
 */
export function parsePublicSignals(signals: unknown, expected: number, name = 'publicSignals'): bigint[] {
  if (!Array.isArray(signals)) throw new TypeError(`${name} must be an array, got ${describe(signals)}`);
  if (signals.length !== expected) throw new RangeError(`${name} must have ${expected} elements, got ${signals.length}`);
  return signals.map((s, i) => {
    const v = typeof s === 'bigint' ? s : coord(s, `${name}[${i}]`);
    if (v < 0n || v >= FIELD_MODULUS) throw new RangeError(`${name}[${i}] must be below r (a canonical field element)`);
    return v;
  });
}

interface PreparedKey {
  alpha: Uint8Array;
  beta: Uint8Array;
  gamma: Uint8Array;
  delta: Uint8Array;
  ic: Uint8Array[];
  nPublic: number;
}
// Prepared keys by their canonical JSON: presentations carry their own copy of a key, so
// object identity would never hit. Bounded: the oldest is dropped.
const keyCache = new Map<string, PreparedKey>();
const KEY_CACHE_SIZE = 64;

function prepareKey(curve: Curve, vk: Groth16VerificationKey): PreparedKey {
  if (typeof vk !== 'object' || vk === null) throw new TypeError('verification key must be an object');
  const id = canonicalJson(vk);
  const hit = keyCache.get(id);
  if (hit) return hit;
  if (vk.protocol !== 'groth16' || vk.curve !== 'bn128') throw new RangeError('verification key must be groth16 over bn128');
  if (!Number.isInteger(vk.nPublic) || !Array.isArray(vk.IC) || vk.IC.length !== vk.nPublic + 1) {
    throw new RangeError('verification key: IC must have nPublic + 1 points');
  }
  const prepared: PreparedKey = {
    alpha: g1(curve, vk.vk_alpha_1, 'vk.vk_alpha_1'),
    beta: g2(curve, vk.vk_beta_2, 'vk.vk_beta_2'),
    gamma: g2(curve, vk.vk_gamma_2, 'vk.vk_gamma_2'),
    delta: g2(curve, vk.vk_delta_2, 'vk.vk_delta_2'),
    ic: vk.IC.map((p, i) => g1(curve, p, `vk.IC[${i}]`)),
    nPublic: vk.nPublic,
  };
  // A key may come from a presentation: its points must be on their curves, and its G2
  // points in the prime-order subgroup, before any pairing uses them.
  if (![prepared.alpha, ...prepared.ic].every((p) => curve.G1.isValid(p)) || ![prepared.beta, prepared.gamma, prepared.delta].every((p) => inG2Subgroup(curve, p))) {
    throw new RangeError('verification key: a point is not on its curve or not in its group');
  }
  if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(id, prepared);
  return prepared;
}

interface ParsedProof {
  a: Uint8Array;
  b: Uint8Array;
  c: Uint8Array;
}

/** Parses a proof; returns undefined if a point is off its curve or B is outside the subgroup. */
function parseProof(curve: Curve, proof: unknown, name: string): ParsedProof | undefined {
  if (typeof proof !== 'object' || proof === null) throw new TypeError(`${name} must be an object, got ${describe(proof)}`);
  const p = proof as Record<string, unknown>;
  const a = g1(curve, p.pi_a, `${name}.pi_a`);
  const b = g2(curve, p.pi_b, `${name}.pi_b`);
  const c = g1(curve, p.pi_c, `${name}.pi_c`);
  if (!curve.G1.isValid(a) || !curve.G1.isValid(c) || !inG2Subgroup(curve, b)) return undefined;
  return { a, b, c };
}

/** On the twist and in the prime-order subgroup: G2 has a large cofactor on BN254, so require r * P = O. */
function inG2Subgroup(curve: Curve, p: Uint8Array): boolean {
  return curve.G2.isValid(p) && curve.G2.isZero(curve.G2.timesScalar(p, FIELD_MODULUS));
}

function linearCombination(curve: Curve, key: PreparedKey, scalars: readonly bigint[], constant: bigint): Uint8Array {
  // constant * IC_0 + sum_i scalars_i * IC_{i+1}, all scalars already reduced mod r.
  let acc = curve.G1.timesScalar(key.ic[0]!, constant);
  scalars.forEach((s, i) => {
    if (s !== 0n) acc = curve.G1.add(acc, curve.G1.timesScalar(key.ic[i + 1]!, s));
  });
  return acc;
}

/**
 * Verifies one Groth16 proof.
 * @returns true iff the proof is valid for the key and the public signals.
 * @throws TypeError / RangeError for malformed input (see module comment).
 * @example await verifyGroth16(vkey, ['1', '2'], proof)
 */
export async function verifyGroth16(vk: Groth16VerificationKey, publicSignals: readonly unknown[], proof: Groth16ProofJson): Promise<boolean> {
  const curve = await getCurve();
  const key = prepareKey(curve, vk);
  const x = parsePublicSignals(publicSignals, key.nPublic);
  const p = parseProof(curve, proof, 'proof');
  if (!p) return false;
  const lx = linearCombination(curve, key, x, 1n);
  return curve.pairingEq(curve.G1.neg(p.a), p.b, key.alpha, key.beta, lx, key.gamma, p.c, key.delta);
}

/** One proof with its public signals. */
export interface BatchItem {
  publicSignals: readonly unknown[];
  proof: Groth16ProofJson;
}

/**
 * Verifies many proofs under one key with a random linear combination (see module comment).
 * @param randomBytes a source of cryptographic randomness (globalThis.crypto by default).
 * @returns true iff every proof is valid (up to a 2^-128 error); false if any is invalid.
 * @throws TypeError / RangeError for malformed input, before any pairing.
 */
export async function verifyGroth16Batch(
  vk: Groth16VerificationKey,
  items: readonly BatchItem[],
  randomBytes: (n: number) => Uint8Array = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n)),
): Promise<boolean> {
  if (!Array.isArray(items)) throw new TypeError(`items must be an array, got ${describe(items)}`);
  if (items.length === 0) return true;
  const curve = await getCurve();
  const key = prepareKey(curve, vk);
  const parsed = items.map((it, i) => ({
    x: parsePublicSignals(it?.publicSignals, key.nPublic, `items[${i}].publicSignals`),
    p: parseProof(curve, it?.proof, `items[${i}].proof`),
  }));
  if (parsed.some((it) => !it.p)) return false;
  const rnd = randomBytes(16 * items.length);
  const r = items.map((_, i) => {
    let v = 0n;
    for (let k = 0; k < 16; k++) v = (v << 8n) | BigInt(rnd[16 * i + k]!);
    return v | 1n; // non-zero
  });
  const sumR = r.reduce((a, b) => a + b, 0n) % FIELD_MODULUS;
  const xs = Array.from({ length: key.nPublic }, (_, j) => parsed.reduce((acc, it, i) => (acc + r[i]! * it.x[j]!) % FIELD_MODULUS, 0n));
  const lx = linearCombination(curve, key, xs, sumR);
  let cSum = curve.G1.zero;
  const pairs: Uint8Array[] = [];
  parsed.forEach((it, i) => {
    pairs.push(curve.G1.neg(curve.G1.timesScalar(it.p!.a, r[i]!)), it.p!.b);
    cSum = curve.G1.add(cSum, curve.G1.timesScalar(it.p!.c, r[i]!));
  });
  pairs.push(curve.G1.timesScalar(key.alpha, sumR), key.beta, lx, key.gamma, cSum, key.delta);
  return curve.pairingEq(...pairs);
}
