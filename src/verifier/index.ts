/**
 * zktrust verifier: in-process checks of threshold presentations and Groth16 proofs.
 * No Node-only imports: this entry point bundles for browsers (test/unit/verifier-bundle.test.ts).
 * @module
 */
export { createVerifier, verificationKeyHash, type Expectations, type ReasonCode, type VerificationResult, type Verifier, type VerifierOptions } from './presentation.ts';
export { verifyGroth16, verifyGroth16Batch, type Groth16ProofJson, type Groth16VerificationKey } from './groth16.ts';
export { BUNDLED_KEYS } from './keys.ts';
export { checkTrustGate, createTrustProvider, type TrustProviderOptions } from './gate.ts';
// Carriers where agents already live (src/interop): W3C VC 2.0 presentations, the A2A
// agent-card extension and its gate, Agent Governance Toolkit adapters. Browser-safe too.
export * from '../interop/index.ts';
