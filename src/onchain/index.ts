/**
 * zktrust on chain: a Solidity Groth16 verifier and a gate contract generated from a key set's
 * threshold verification key, and the calldata to publish checkpoints to the gate and to
 * verify presentations with it (docs/protocol.md "On-chain verification"). Node only; imports
 * no Ethereum library and no compiler (test/helpers/evm.ts compiles and runs the contracts).
 * @module
 */
export { solidityVerifier, parseVerificationKey, BASE_FIELD_MODULUS, PAIRING_GAS, type SolidityVerifierOptions } from './solidity.ts';
export { solidityPoseidon } from './solidity-poseidon.ts';
export {
  solidityGate,
  gateConstructorArgs,
  gateVerifyCalldata,
  verifyProofCalldata,
  proofCalldata,
  publishCheckpointCalldata,
  decodeGateError,
  keyModeOf,
  GATE_ERRORS,
  GATE_FUNCTIONS,
  GATE_KEY_MODES,
  type GateError,
  type GateExpectations,
  type SolidityGateOptions,
} from './gate.ts';
export { encodeCall, encodeParams, decodeWords, selector, type AbiType, type AbiValue } from './abi.ts';
