/**
 * Groth16 proving: the one place in zktrust that makes proofs. A prover holds its circuit's
 * compiled witness calculator and its parsed proving key (groth16-engine.ts) in memory, so
 * each proof costs a witness and a proof, not a file read, a zkey parse or a WebAssembly
 * compilation; the BN254 curve (and its worker threads) stays warm between proofs.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { WitnessCalculatorBuilder } from 'circom_runtime';
import * as snarkjs from 'snarkjs';
import { ProvingKey, type Groth16Proof } from './groth16-engine.ts';

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
  private readonly key: ProvingKey;
  private calculator?: ReturnType<typeof WitnessCalculatorBuilder>;
  // The calculator's WebAssembly instance holds one witness at a time: witnesses are
  // computed one after another (proofs may then overlap).
  private witnessQueue: Promise<unknown> = Promise.resolve();

  private constructor(circuit: string, publicNames: readonly Name[], wasm: Uint8Array, key: ProvingKey) {
    this.circuit = circuit;
    this.publicNames = publicNames;
    this.wasm = wasm;
    this.key = key;
  }

  /** Whether the G1 and G2 multiexponentiations run in the native addon (else WebAssembly). */
  get nativeMsm(): boolean {
    return this.key.nativeMsm;
  }

  /**
   * Loads a circuit's witness generator and proving key. Check them against the manifest
   * first (artifacts.ts): this only reads the bytes.
   */
  static async fromFiles<N extends string>(opts: {
    circuit: string;
    wasmPath: string;
    zkeyPath: string;
    publicNames: readonly N[];
    /** false: G1 and G2 multiexponentiations in WebAssembly even where the addon builds. */
    native?: boolean;
    onNativeUnavailable?: (reason: string) => void;
  }): Promise<Groth16Prover<N>> {
    const [wasm, zkey] = await Promise.all([readFile(opts.wasmPath), readFile(opts.zkeyPath)]);
    const key = await ProvingKey.parse(new Uint8Array(zkey), { native: opts.native, onNativeUnavailable: opts.onNativeUnavailable });
    return new Groth16Prover(opts.circuit, opts.publicNames, new Uint8Array(wasm), key);
  }

  /**
   * Computes the witness for `input` and proves it.
   * @throws Error with circom's "Assert Failed" message if the input does not satisfy the
   *   circuit; Error if the circuit's public signal count differs from publicNames.
   */
  async prove(input: Record<string, unknown>): Promise<ProofResult<Name>> {
    // As snarkjs's fullProve, with the witness calculator compiled once and the key parsed once.
    this.calculator ??= WitnessCalculatorBuilder(this.wasm);
    const calculator = this.calculator;
    const witness = this.witnessQueue.then(async () => (await calculator).calculateWTNSBin(input, false));
    this.witnessQueue = witness.catch(() => undefined);
    const wtns = await witness;
    const { proof, publicSignals } = await this.key.prove(wtns);
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
