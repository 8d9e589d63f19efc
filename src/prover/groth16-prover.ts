/**
 * Groth16 proving with snarkjs: the only place in zktrust that calls snarkjs's prover.
 * A prover holds its circuit's compiled witness calculator and its zkey in memory, so each
 * proof costs a witness and a proof, not a file read or a WebAssembly compilation; snarkjs
 * keeps the BN254 curve (and its worker threads) warm between proofs in one process.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { WitnessCalculatorBuilder } from 'circom_runtime';
import * as snarkjs from 'snarkjs';
import type { Groth16Proof } from 'snarkjs';

export type { Groth16Proof };

export interface ProofResult<Name extends string> {
  proof: Groth16Proof;
  /** Public signals as decimal strings, in the circuit's order (snarkjs's form). */
  publicSignals: string[];
  /** The same signals by name. */
  named: Record<Name, bigint>;
}

export class Groth16Prover<Name extends string = string> {
  readonly circuit: string;
  readonly publicNames: readonly Name[];
  private readonly wasm: Uint8Array;
  private readonly zkey: Uint8Array;
  private calculator?: ReturnType<typeof WitnessCalculatorBuilder>;
  // The calculator's WebAssembly instance holds one witness at a time: witnesses are
  // computed one after another (proofs may then overlap).
  private witnessQueue: Promise<unknown> = Promise.resolve();

  private constructor(circuit: string, publicNames: readonly Name[], wasm: Uint8Array, zkey: Uint8Array) {
    this.circuit = circuit;
    this.publicNames = publicNames;
    this.wasm = wasm;
    this.zkey = zkey;
  }

  /**
   * Loads a circuit's witness generator and proving key. Check them against the manifest
   * first (artifacts.ts): this only reads the bytes.
   */
  static async fromFiles<N extends string>(opts: { circuit: string; wasmPath: string; zkeyPath: string; publicNames: readonly N[] }): Promise<Groth16Prover<N>> {
    const [wasm, zkey] = await Promise.all([readFile(opts.wasmPath), readFile(opts.zkeyPath)]);
    return new Groth16Prover(opts.circuit, opts.publicNames, new Uint8Array(wasm), new Uint8Array(zkey));
  }

  /**
   * Computes the witness for `input` and proves it.
   * @throws Error with circom's "Assert Failed" message if the input does not satisfy the
   *   circuit; Error if the circuit's public signal count differs from publicNames.
   */
  async prove(input: Record<string, unknown>): Promise<ProofResult<Name>> {
    // As snarkjs's fullProve, with the witness calculator compiled once.
    this.calculator ??= WitnessCalculatorBuilder(this.wasm);
    const calculator = this.calculator;
    const witness = this.witnessQueue.then(async () => (await calculator).calculateWTNSBin(input, false));
    this.witnessQueue = witness.catch(() => undefined);
    const wtns = await witness;
    const { proof, publicSignals } = await snarkjs.groth16.prove({ type: 'mem', data: this.zkey }, { type: 'mem', data: wtns });
    if (publicSignals.length !== this.publicNames.length) {
      throw new Error(`${this.circuit}: circuit has ${publicSignals.length} public signals, expected ${this.publicNames.length}`);
    }
    const named = Object.fromEntries(this.publicNames.map((n, i) => [n, BigInt(publicSignals[i]!)])) as Record<Name, bigint>;
    return { proof, publicSignals, named };
  }
}

/**
 * Verifies a proof with snarkjs, for round trips in the prover's own tests and tools.
 * Verifiers use src/verifier/, which also checks the shape and range of every signal.
 */
export async function verifyRoundTrip(vkey: unknown, publicSignals: readonly string[], proof: Groth16Proof): Promise<boolean> {
  return snarkjs.groth16.verify(vkey, publicSignals, proof);
}
