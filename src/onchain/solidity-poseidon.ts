/**
 * circomlib's Poseidon as a Solidity function, so that a contract can hash what the circuits
 * hash (the gate recomputes the verifier's context hash, docs/protocol.md "Threshold context").
 *
 * The contract evaluates the textbook (unoptimised) permutation, as circomlibjs's
 * poseidon_reference.js does: in each of 8 + P rounds add the round's t constants, apply x^5
 * to every element (full rounds: the first and last four) or to the first (partial rounds),
 * then multiply by the MDS matrix. src/crypto/poseidon-core.ts evaluates the optimised form
 * of the same function; the two agree (test/integration/onchain.test.ts checks them against
 * each other). The unoptimised form needs t x (8 + P) round constants (340 words for four
 * inputs, 10.9 KB of contract code) where the optimised one needs about twice as many, which
 * would not fit beside the verifier under the 24 KB contract size limit (EIP-170).
 *
 * The constants are read, when a contract is generated, from the pinned circomlibjs package
 * (src/poseidon_constants.json, the unoptimised constants from the Poseidon paper's Grain
 * LFSR script): Node only, like the rest of src/onchain/.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { FIELD_MODULUS as R } from '../crypto/field.ts';
import { PARTIAL_ROUNDS } from '../crypto/poseidon-core.ts';
import { assertIdentifier } from './solidity.ts';

const FULL_ROUNDS = 8;

interface ReferenceConstants {
  C: string[][];
  M: string[][][];
}
let reference: ReferenceConstants | undefined;

/** circomlibjs's unoptimised Poseidon constants (every width), read once. */
function referenceConstants(): ReferenceConstants {
  if (!reference) {
    // circomlibjs's package exports hide src/: locate the package from its entry point.
    const main = createRequire(import.meta.url).resolve('circomlibjs');
    const root = dirname(dirname(main)); // build/main.cjs -> package root
    reference = JSON.parse(readFileSync(join(root, 'src', 'poseidon_constants.json'), 'utf8')) as ReferenceConstants;
  }
  return reference;
}

/** The round constants and MDS matrix of Poseidon with `inputs` inputs (width inputs + 1). */
export function poseidonReferenceConstants(inputs: number): { C: bigint[]; M: bigint[][]; partialRounds: number } {
  if (!Number.isInteger(inputs) || inputs < 1 || inputs > 4) throw new RangeError('inputs must be an integer in [1, 4]');
  const t = inputs + 1;
  const raw = referenceConstants();
  const C = raw.C[t - 2]!.map((x) => BigInt(x));
  const M = raw.M[t - 2]!.map((row) => row.map((x) => BigInt(x)));
  const partialRounds = PARTIAL_ROUNDS[t - 2]!;
  if (C.length !== t * (FULL_ROUNDS + partialRounds) || M.length !== t || C.some((c) => c >= R)) throw new RangeError('circomlibjs Poseidon constants have an unexpected shape');
  return { C, M, partialRounds };
}

/**
 * Solidity declarations of `function <name>(uint256 x1, ..., uint256 xn) internal pure
 * returns (uint256)`, circomlib's Poseidon(n), and of the round constants it reads. Inputs
 * must be below r (the caller's duty, as in the circuits).
 * @throws RangeError for an input count outside [1, 4] (the lazy reduction needs t r < 2^256,
 *   and wider states would not fit the stack).
 */
export function solidityPoseidon(inputs: number, name = `_poseidon${inputs}`): string {
  assertIdentifier(name, 'name');
  const { C, M, partialRounds } = poseidonReferenceConstants(inputs);
  const t = inputs + 1;
  const rounds = FULL_ROUNDS + partialRounds;
  const s = Array.from({ length: t }, (_, i) => `s${i}`);
  const constants = `${name.toUpperCase().replace(/^_/, '')}_C`;
  const blob = C.map((c) => c.toString(16).padStart(64, '0')).join('');
  // The modulus lives in a variable: repeated as a literal, solc's optimizer (runs = 200)
  // fetches it with codecopy each time, which doubles the cost.
  const pow5 = (v: string) => `                { let x := mulmod(${v}, ${v}, f) ${v} := mulmod(mulmod(x, x, f), ${v}, f) }`;
  // The product's sum is reduced lazily: t terms below r add up below t r < 2^256, and the next
  // round's addmod (or the final mod) reduces it. Term by term: a nested expression would need
  // more stack than Solidity reaches.
  const mix = s
    .map((_, i) => {
      const terms = s.map((v, j) => `mulmod(0x${M[i]![j]!.toString(16)}, ${v}, f)`);
      return `                mstore(add(m, ${i * 32}), ${terms.slice(1).reduce((acc, term) => `add(${acc}, ${term})`, terms[0]!)})`;
    })
    .join('\n');
  return `    /// Round constants of ${name} (circomlib Poseidon(${inputs}), width ${t}): ${rounds} rounds of ${t}.
    bytes internal constant ${constants} = hex"${blob}";

    /// circomlib's Poseidon(${inputs}) of inputs below r (unoptimised evaluation, ${FULL_ROUNDS} full and ${partialRounds} partial rounds).
    function ${name}(${s.slice(1).map((v) => `uint256 ${v}`).join(', ')}) internal pure returns (uint256 s0) {
        bytes memory rc = ${constants};
        assembly ("memory-safe") {
            let f := ${R}
            let c := add(rc, 0x20)
            let m := mload(0x40) // scratch for the matrix product (not kept)
            for { let r := 0 } lt(r, ${rounds}) { r := add(r, 1) } {
${s.map((v, i) => `                ${v} := addmod(${v}, mload(add(c, ${i * 32})), f)`).join('\n')}
                c := add(c, ${t * 32})
${pow5('s0')}
                if or(lt(r, ${FULL_ROUNDS / 2}), gt(r, ${FULL_ROUNDS / 2 + partialRounds - 1})) {
${s.slice(1).map((v) => '    ' + pow5(v)).join('\n')}
                }
${mix}
${s.map((v, i) => `                ${v} := mload(add(m, ${i * 32}))`).join('\n')}
            }
            s0 := mod(s0, f)
        }
    }
`;
}

