/**
 * Poseidon over BN254, bit-for-bit equal to circomlib's `Poseidon(n)` template (and to
 * circomlibjs), bound to one input count's constants at a time. Synchronous and pure, so the
 * verifier and the browser can hash without a WebAssembly start-up. This module holds no
 * constants: each input count's live in their own generated module under poseidon-constants/,
 * which also binds them here (`poseidon4` and so on), so that a bundle carries only the
 * input counts its code imports: the verifier's four of the seven (3, 4, 6 and 11 inputs)
 * are about 270 KB of the 450 KB of constants (test/unit/verifier-bundle.test.ts).
 * `poseidon` (poseidon.ts) takes any of them.
 *
 * The evaluation order is the standard optimised one (sparse partial-round matrices, as in
 * the Poseidon paper's appendix B): full rounds, then partial rounds acting on one S-box and
 * a sparse matrix, then full rounds. 8 full rounds; partial rounds by width as in circomlib.
 * @module
 */
import { FIELD_MODULUS as P, assertField } from './field.ts';

// Partial rounds for width t = 2..17 (circomlib's table, from the Poseidon paper's script).
export const PARTIAL_ROUNDS = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];
const FULL_ROUNDS = 8;

/**
 * One input count's constants in circomlib's optimised form, as base-16 strings (a quarter
 * smaller than decimal, parsed once on first use): round constants (C), sparse partial-round
 * matrices (S), MDS (M) and pre-sparse (P) matrices, the matrices t x t for t = inputs + 1.
 */
export interface PoseidonConstants {
  C: string[];
  S: string[];
  M: string[][];
  P: string[][];
}

/** Another implementation of the same function: the native addon's (src/engines/native-poseidon.ts). */
export type PoseidonBackend = (inputs: readonly bigint[]) => bigint;
let backend: PoseidonBackend | undefined;

/**
 * Has every Poseidon hasher compute with `b` (process-wide), or with this module's BigInt code
 * again when `b` is undefined. The aggregator installs the native addon, about ten times as
 * fast (a 4-input hash in 27 us against 256 us here), so that its state's trees keep pace with
 * ingestion; verifiers and browsers never need to. Inputs are still checked here first, so
 * both refuse the same inputs; the backend must give the same hashes (the addon's frozen
 * vectors and property tests).
 */
export function setPoseidonBackend(b: PoseidonBackend | undefined): void {
  backend = b;
}

interface Params {
  t: number;
  partial: number;
  C: bigint[];
  S: bigint[];
  M: bigint[][];
  P: bigint[][];
}

function parse(raw: PoseidonConstants): Params {
  const h = (x: string) => BigInt('0x' + x);
  const t = raw.M.length;
  return { t, partial: PARTIAL_ROUNDS[t - 2]!, C: raw.C.map(h), S: raw.S.map(h), M: raw.M.map((r) => r.map(h)), P: raw.P.map((r) => r.map(h)) };
}

const pow5 = (a: bigint): bigint => {
  const a2 = (a * a) % P;
  return (((a2 * a2) % P) * a) % P;
};

// state' = state x M (row vector times matrix), as circomlib's MixS/Mix.
function mix(state: bigint[], m: bigint[][]): bigint[] {
  const t = state.length;
  const out = new Array<bigint>(t);
  for (let i = 0; i < t; i++) {
    let acc = 0n;
    for (let j = 0; j < t; j++) acc += m[j]![i]! * state[j]!;
    out[i] = acc % P;
  }
  return out;
}

function permute({ t, partial, C, S, M, P: PM }: Params, inputs: readonly bigint[]): bigint {
  let state: bigint[] = [0n, ...inputs];
  const half = FULL_ROUNDS / 2;

  state = state.map((a, i) => (a + C[i]!) % P);
  for (let r = 0; r < half - 1; r++) {
    state = state.map((a, i) => (pow5(a) + C[(r + 1) * t + i]!) % P);
    state = mix(state, M);
  }
  state = state.map((a, i) => (pow5(a) + C[half * t + i]!) % P);
  state = mix(state, PM);

  const base = (half + 1) * t;
  for (let r = 0; r < partial; r++) {
    state[0] = (pow5(state[0]!) + C[base + r]!) % P;
    const off = (2 * t - 1) * r;
    let s0 = 0n;
    for (let j = 0; j < t; j++) s0 += S[off + j]! * state[j]!;
    const x0 = state[0]!;
    for (let k = 1; k < t; k++) state[k] = (state[k]! + x0 * S[off + t + k - 1]!) % P;
    state[0] = s0 % P;
  }

  for (let r = 0; r < half - 1; r++) {
    state = state.map((a, i) => (pow5(a) + C[base + partial + r * t + i]!) % P);
    state = mix(state, M);
  }
  state = mix(state.map(pow5), M);
  return state[0]!;
}

/**
 * The Poseidon hash of exactly `raw.M.length - 1` field elements under `raw`, parsing the
 * constants on the first call rather than at import, so that importing a width costs nothing
 * until it hashes.
 * @throws (the returned function) TypeError / RangeError if an input is not a canonical field
 *   element, RangeError for another number of inputs.
 * @example poseidonOf(POSEIDON_2_CONSTANTS)([1n, 2n]) // circomlib Poseidon(2)
 */
export function poseidonOf(raw: PoseidonConstants): (inputs: readonly bigint[]) => bigint {
  const n = raw.M.length - 1;
  let params: Params | undefined;
  return (inputs) => {
    if (!Array.isArray(inputs)) throw new TypeError('inputs must be an array of bigints');
    for (let i = 0; i < inputs.length; i++) assertField(inputs[i], `inputs[${i}]`);
    if (inputs.length !== n) throw new RangeError(`Poseidon(${n}) takes ${n} inputs, got ${inputs.length}`);
    if (backend) return backend(inputs);
    params ??= parse(raw);
    return permute(params, inputs);
  };
}
