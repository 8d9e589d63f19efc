/**
 * A Solidity Groth16 verifier for one snarkjs verification key (BN254), written by this module
 * from the key alone: the key's points become constants of the contract, and the contract
 * checks
 *
 *     e(-A, B) * e(alpha, beta) * e(L(x), gamma) * e(C, delta) = 1,   L(x) = IC_0 + sum_i x_i IC_{i+1}
 *
 * with the EVM's BN254 precompiles: 0x07 (ecMul) and 0x06 (ecAdd) for L(x), 0x08 (ecPairing,
 * EIP-197, priced by EIP-1108) for the product.
 *
 * `verifyProof(a, b, c, signals)` returns false, and never reverts, for anything that is not
 * a valid proof of the signals: a signal `>= r`, a coordinate `>= q`, A or C off the curve
 * (the point at infinity included: its encoding (0, 0) is not on y^2 = x^3 + 3), B off the
 * twist, B outside the prime-order subgroup (the pairing precompile refuses it), a wrong
 * proof. The one exception: it reverts `NotEnoughGasForPairing()` when fewer than
 * PAIRING_GAS_GUARD units of gas remain before the pairing, so that a caller who starves the
 * call cannot make a valid proof look invalid (a failed precompile call and an invalid point
 * are otherwise the same to the contract).
 *
 * Encoding, the precompiles' and Ethereum's convention: G1 points are `[x, y]`; a G2 point is
 * `[[x.imag, x.real], [y.imag, y.real]]`, each coordinate `c = c.real + c.imag * u` of
 * F_q^2 = F_q[u]/(u^2 + 1). snarkjs writes G2 coordinates real first, so the pairs are
 * swapped (`proofCalldata`, gate.ts).
 * @module
 */
import { FIELD_MODULUS as R, describe } from '../crypto/field.ts';
import { vkeyHash } from '../crypto/key-set.ts';
import type { Groth16VerificationKey } from '../verifier/groth16.ts';
import { isAffineVerificationKey } from '../verifier/keys.ts';
import { selector } from './abi.ts';

/** The BN254 base field: point coordinates are below it. */
export const BASE_FIELD_MODULUS = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const Q = BASE_FIELD_MODULUS;

/** EIP-1108 ecPairing price for the verifier's four pairs: 45,000 + 4 x 34,000. */
export const PAIRING_GAS = 45_000 + 4 * 34_000;
/**
 * The gas that must remain before the pairing call: a call passes on at most 63/64 of what
 * remains (EIP-150), and this leaves the precompile at least PAIRING_GAS.
 */
export const PAIRING_GAS_GUARD = 185_000;

const mod = (a: bigint) => ((a % Q) + Q) % Q;
function inverse(a: bigint): bigint {
  // Fermat: a^(q-2).
  let r = 1n;
  let b = mod(a);
  for (let e = Q - 2n; e > 0n; e >>= 1n, b = (b * b) % Q) if (e & 1n) r = (r * b) % Q;
  return r;
}
type Fp2 = [bigint, bigint]; // real, imag
const mul2 = ([a0, a1]: Fp2, [b0, b1]: Fp2): Fp2 => [mod(a0 * b0 - a1 * b1), mod(a0 * b1 + a1 * b0)];
const add2 = ([a0, a1]: Fp2, [b0, b1]: Fp2): Fp2 => [mod(a0 + b0), mod(a1 + b1)];

/** The twist's constant b' = 3 / (9 + u): (3 (9 - u)) / 82. */
export const TWIST_B: Fp2 = (() => {
  const i82 = inverse(82n);
  return [mod(27n * i82), mod(-3n * i82)];
})();

/** A G1 point (affine). */
export type G1 = [bigint, bigint];
/** A G2 point (affine), coordinates as [real, imag] pairs like snarkjs's. */
export type G2 = [Fp2, Fp2];

export const onG1 = ([x, y]: G1): boolean => x < Q && y < Q && mod(y * y) === mod(x * x * x + 3n);
export const onTwist = ([x, y]: G2): boolean => [...x, ...y].every((c) => c < Q) && mul2(y, y).every((c, i) => c === add2(mul2(mul2(x, x), x), TWIST_B)[i]);

/** A verification key's points as numbers, checked. */
export interface ParsedVerificationKey {
  nPublic: number;
  alpha: G1;
  beta: G2;
  gamma: G2;
  delta: G2;
  ic: G1[];
  /** sha256 (hex) of the key's canonical JSON: the key set descriptor's `vkey`. */
  hash: string;
}

const DEC = /^(0|[1-9][0-9]{0,77})$/;
function coordinate(x: unknown, name: string): bigint {
  if (typeof x !== 'string' || !DEC.test(x)) throw new TypeError(`${name} must be a decimal string, got ${describe(x)}`);
  const v = BigInt(x);
  if (v >= Q) throw new RangeError(`${name} must be below the base field modulus q`);
  return v;
}

/**
 * Reads a snarkjs verification key: groth16 over bn128, affine points (z = 1, as snarkjs
 * exports them), coordinates below q, G1 points on the curve and G2 points on the twist.
 * (Whether beta, gamma and delta lie in the prime-order subgroup is not checked here: the
 * pairing precompile refuses points outside it, so a key with such a point verifies nothing.)
 * @throws TypeError / RangeError naming what is wrong.
 */
export function parseVerificationKey(vkey: unknown): ParsedVerificationKey {
  if (typeof vkey !== 'object' || vkey === null) throw new TypeError(`verification key must be an object, got ${describe(vkey)}`);
  const k = vkey as Groth16VerificationKey;
  if (k.protocol !== 'groth16' || k.curve !== 'bn128') throw new RangeError('verification key must be groth16 over bn128');
  if (!Number.isInteger(k.nPublic) || k.nPublic < 1 || k.nPublic > 64) throw new RangeError('verification key: nPublic must be an integer in [1, 64]');
  if (!Array.isArray(k.IC) || k.IC.length !== k.nPublic + 1) throw new RangeError('verification key: IC must have nPublic + 1 points');
  if (!isAffineVerificationKey(k)) throw new RangeError('verification key: every point must be affine (z = 1), as snarkjs exports it');
  const g1 = (p: string[], name: string): G1 => {
    const pt: G1 = [coordinate(p[0], `${name}[0]`), coordinate(p[1], `${name}[1]`)];
    if (!onG1(pt)) throw new RangeError(`verification key: ${name} is not on the curve`);
    return pt;
  };
  const g2 = (p: string[][], name: string): G2 => {
    if (!p.every((c) => Array.isArray(c) && c.length === 2)) throw new TypeError(`${name} must be pairs of decimal strings`);
    const pt: G2 = [
      [coordinate(p[0]![0], `${name}[0][0]`), coordinate(p[0]![1], `${name}[0][1]`)],
      [coordinate(p[1]![0], `${name}[1][0]`), coordinate(p[1]![1], `${name}[1][1]`)],
    ];
    if (!onTwist(pt)) throw new RangeError(`verification key: ${name} is not on the twist`);
    return pt;
  };
  return {
    nPublic: k.nPublic,
    alpha: g1(k.vk_alpha_1, 'vk_alpha_1'),
    beta: g2(k.vk_beta_2, 'vk_beta_2'),
    gamma: g2(k.vk_gamma_2, 'vk_gamma_2'),
    delta: g2(k.vk_delta_2, 'vk_delta_2'),
    ic: k.IC.map((p, i) => g1(p, `IC[${i}]`)),
    hash: vkeyHash(vkey),
  };
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** @throws TypeError unless `name` is a Solidity identifier. */
export function assertIdentifier(name: unknown, what: string): asserts name is string {
  if (typeof name !== 'string' || !IDENT.test(name)) throw new TypeError(`${what} must be a Solidity identifier, got ${describe(name)}`);
}

/** The header of every generated file. */
export function fileHeader(what: string, hash: string): string {
  return `// SPDX-License-Identifier: Apache-2.0
// ${what}
// Generated by zktrust (src/onchain/) from the threshold verification key with sha256
// ${hash}. Do not edit: regenerate it from the key.
pragma solidity ^0.8.24;
`;
}

const g2Constants = (name: string, [x, y]: G2) =>
  [`${name}_X1 = ${x[1]}`, `${name}_X0 = ${x[0]}`, `${name}_Y1 = ${y[1]}`, `${name}_Y0 = ${y[0]}`].map((s) => `    uint256 internal constant ${s};`).join('\n');

/**
 * The verifier contract's text (without the file header), for embedding: the gate contract
 * inherits it.
 */
export function verifierContract(vkey: unknown, contractName: string): string {
  assertIdentifier(contractName, 'contractName');
  const k = parseVerificationKey(vkey);
  const n = k.nPublic;
  // L(x) accumulates at m; each term is scalar-multiplied at m + 0x40 (x, y, scalar) and added.
  const terms = k.ic
    .slice(1)
    .map(
      (_, i) => `            mstore(add(m, 0x40), IC${i + 1}_X)
            mstore(add(m, 0x60), IC${i + 1}_Y)
            mstore(add(m, 0x80), calldataload(add(signals, ${i * 32})))
            ok := and(ok, staticcall(gas(), 0x07, add(m, 0x40), 0x60, add(m, 0x40), 0x40))
            ok := and(ok, staticcall(gas(), 0x06, m, 0x80, m, 0x40))`,
    )
    .join('\n');
  const g2Store = (name: string, at: number) =>
    [`X1`, `X0`, `Y1`, `Y0`].map((c, i) => `            mstore(add(p, ${`0x${(at + 32 * i).toString(16)}`}), ${name}_${c})`).join('\n');
  return `/**
 * @title Groth16 verifier of zktrust's threshold circuit over BN254 (${n} public signals)
 * @notice verifyProof returns true iff (a, b, c) is a valid Groth16 proof of the public signals
 * under this contract's verification key. It returns false, and does not revert, for any other
 * input: a signal >= r, a coordinate >= q, A or C off the curve or at infinity, B off the
 * twist or outside the prime-order subgroup, a proof that does not verify. It reverts
 * NotEnoughGasForPairing() only when too little gas is left for the pairing precompile.
 * G2 points are ((x.imag, x.real), (y.imag, y.real)), the precompiles' order.
 */
contract ${contractName} {
    /// The BN254 scalar field: public signals are below it.
    uint256 internal constant R = ${R};
    /// The BN254 base field: coordinates are below it.
    uint256 internal constant Q = ${Q};
    /// The twist y^2 = x^3 + b', b' = 3 / (9 + u).
    uint256 internal constant TWIST_B0 = ${TWIST_B[0]};
    uint256 internal constant TWIST_B1 = ${TWIST_B[1]};
    /// EIP-1108 prices the pairing of ${4} pairs at ${PAIRING_GAS} gas; with 63/64 passed on (EIP-150), this much must remain.
    uint256 internal constant PAIRING_GAS_GUARD = ${PAIRING_GAS_GUARD};

    /// sha256 of the verification key's canonical JSON (its key set descriptor's \`vkey\`).
    bytes32 public constant VERIFICATION_KEY_HASH = 0x${k.hash};
    uint256 public constant PUBLIC_SIGNALS = ${n};

    // The verification key, affine.
    uint256 internal constant ALPHA_X = ${k.alpha[0]};
    uint256 internal constant ALPHA_Y = ${k.alpha[1]};
${g2Constants('BETA', k.beta)}
${g2Constants('GAMMA', k.gamma)}
${g2Constants('DELTA', k.delta)}
${k.ic.map((p, i) => `    uint256 internal constant IC${i}_X = ${p[0]};\n    uint256 internal constant IC${i}_Y = ${p[1]};`).join('\n')}

    /// Too little gas remained for the pairing: retry with more (nothing was decided).
    error NotEnoughGasForPairing();

    /**
     * @notice Whether (a, b, c) proves the public signals under this contract's key.
     * @param a the proof's A, [x, y]
     * @param b the proof's B, [[x.imag, x.real], [y.imag, y.real]]
     * @param c the proof's C, [x, y]
     * @param signals the public signals, in the circuit's order
     */
    function verifyProof(uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c, uint256[${n}] calldata signals) public view returns (bool) {
        for (uint256 i = 0; i < ${n}; ++i) if (signals[i] >= R) return false;
        if (!_onCurve(a[0], a[1]) || !_onCurve(c[0], c[1]) || !_onTwist(b[0][0], b[0][1], b[1][0], b[1][1])) return false;
        return _pairing(a, b, c, signals);
    }

    /// (x, y) on y^2 = x^3 + 3 with coordinates below Q; (0, 0), the precompiles' infinity, is not.
    function _onCurve(uint256 x, uint256 y) internal pure returns (bool) {
        return x < Q && y < Q && mulmod(y, y, Q) == addmod(mulmod(mulmod(x, x, Q), x, Q), 3, Q);
    }

    /// (x1 u + x0, y1 u + y0) on the twist, with u^2 = -1 and coordinates below Q.
    function _onTwist(uint256 x1, uint256 x0, uint256 y1, uint256 y0) internal pure returns (bool) {
        if (x0 >= Q || x1 >= Q || y0 >= Q || y1 >= Q) return false;
        uint256 yy0 = addmod(mulmod(y0, y0, Q), Q - mulmod(y1, y1, Q), Q);
        uint256 yy1 = mulmod(2, mulmod(y0, y1, Q), Q);
        uint256 xx0 = addmod(mulmod(x0, x0, Q), Q - mulmod(x1, x1, Q), Q);
        uint256 xx1 = mulmod(2, mulmod(x0, x1, Q), Q);
        uint256 x30 = addmod(mulmod(xx0, x0, Q), Q - mulmod(xx1, x1, Q), Q);
        uint256 x31 = addmod(mulmod(xx0, x1, Q), mulmod(xx1, x0, Q), Q);
        return yy0 == addmod(x30, TWIST_B0, Q) && yy1 == addmod(x31, TWIST_B1, Q);
    }

    /// The pairing product of the inputs, which the caller has range- and curve-checked.
    function _pairing(uint256[2] calldata a, uint256[2][2] calldata b, uint256[2] calldata c, uint256[${n}] calldata signals) internal view returns (bool ok) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            // L(x) = IC_0 + sum_i signals[i] * IC_{i+1}
            mstore(m, IC0_X)
            mstore(add(m, 0x20), IC0_Y)
            ok := 1
${terms}
            // The pairing input at p: (-A, B), (alpha, beta), (L, gamma), (C, delta).
            let p := add(m, 0xa0)
            mstore(p, calldataload(a))
            mstore(add(p, 0x20), sub(Q, calldataload(add(a, 0x20)))) // y != 0 on the curve
            calldatacopy(add(p, 0x40), b, 0x80)
            mstore(add(p, 0xc0), ALPHA_X)
            mstore(add(p, 0xe0), ALPHA_Y)
${g2Store('BETA', 0x100)}
            mstore(add(p, 0x180), mload(m))
            mstore(add(p, 0x1a0), mload(add(m, 0x20)))
${g2Store('GAMMA', 0x1c0)}
            calldatacopy(add(p, 0x240), c, 0x40)
${g2Store('DELTA', 0x280)}
            if lt(gas(), PAIRING_GAS_GUARD) {
                mstore(0, shl(224, 0x${selector('NotEnoughGasForPairing()')}))
                revert(0, 4)
            }
            ok := and(ok, staticcall(gas(), 0x08, p, 0x300, p, 0x20))
            ok := and(ok, mload(p))
        }
    }
}
`;
}

export interface SolidityVerifierOptions {
  /** The contract's name (default `ZktrustThresholdVerifier`). */
  contractName?: string;
}

/**
 * A Solidity source file holding one contract that verifies Groth16 proofs under `vkey`.
 * @throws TypeError / RangeError for a key that is not an affine snarkjs Groth16 key over
 *   bn128 with valid points, or a contract name that is not an identifier.
 * @example writeFileSync('Verifier.sol', solidityVerifier(vkey, { contractName: 'ThresholdVerifier' }))
 */
export function solidityVerifier(vkey: unknown, opts: SolidityVerifierOptions = {}): string {
  const name = opts.contractName ?? 'ZktrustThresholdVerifier';
  const body = verifierContract(vkey, name);
  return `${fileHeader(`${name}: Groth16 verifier of zktrust's threshold circuit.`, vkeyHash(vkey))}\n${body}`;
}
