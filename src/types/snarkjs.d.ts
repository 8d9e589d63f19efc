// Minimal typings for the parts of snarkjs and circom_runtime that zktrust uses.
declare module 'snarkjs' {
  /** As src/prover/groth16-engine.ts declares it (the package's declarations name that one). */
  export type Groth16Proof = import('../prover/groth16-engine.ts').Groth16Proof;
  export type MemFile = { type: 'mem'; data?: Uint8Array };
  export const groth16: {
    fullProve(input: unknown, wasm: string | MemFile, zkey: string | MemFile, logger?: unknown): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    prove(zkey: string | MemFile, witness: string | MemFile, logger?: unknown): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
    verify(vkey: unknown, publicSignals: readonly (string | bigint)[], proof: Groth16Proof, logger?: unknown): Promise<boolean>;
  };
  export const zKey: Record<string, (...args: any[]) => Promise<any>>;
  export const powersOfTau: Record<string, (...args: any[]) => Promise<any>>;
  export const wtns: Record<string, (...args: any[]) => Promise<any>>;
  export const r1cs: Record<string, (...args: any[]) => Promise<any>>;
  export const curves: { getCurveFromName(name: string, options?: unknown): Promise<any> };
}
declare module 'circom_runtime' {
  export function WitnessCalculatorBuilder(wasm: Uint8Array, options?: unknown): Promise<{
    calculateWitness(input: unknown, sanityCheck?: boolean): Promise<bigint[]>;
    calculateWTNSBin(input: unknown, sanityCheck?: boolean): Promise<Uint8Array>;
  }>;
}
declare module 'ffjavascript' {
  export const buildBn128: (singleThread?: boolean) => Promise<any>;
  export const getCurveFromName: (name: string, singleThread?: boolean) => Promise<any>;
  export const Scalar: any;
  export const utils: any;
  export const BigBuffer: any;
  /** ChaCha20 stream generator seeded by eight 32-bit words (snarkjs's hashToG2 and rngs). */
  export class ChaCha {
    constructor(seed?: number[]);
    nextU32(): number;
  }
}
declare module 'circomlibjs' {
  export const buildPoseidon: () => Promise<any>;
}
declare module '@iden3/binfileutils' {
  export function createBinFile(fileName: string, type: string, version: number, nSections: number, cacheSize?: number, pageSize?: number): Promise<any>;
  export function startWriteSection(fd: any, idSection: number): Promise<void>;
  export function endWriteSection(fd: any): Promise<void>;
  export function writeBigInt(fd: any, n: bigint, n8: number, pos?: number): Promise<void>;
}
