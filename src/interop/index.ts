/**
 * zktrust where agents already live: presentations as W3C Verifiable Presentations, the A2A
 * agent-card extension and its gate, and Agent Governance Toolkit adapters. Browser-safe (no
 * Node built-in); re-exported by zktrust/verifier (docs/integrations.md).
 * @module
 */
export {
  THRESHOLD_CREDENTIAL_TYPE,
  THRESHOLD_PROOF_TYPE,
  VC_CONTEXT_V2,
  ZKTRUST_CONTEXT_V1,
  ZKTRUST_CONTEXT_V1_DOCUMENT,
  fromVerifiablePresentation,
  isVerifiablePresentation,
  toVerifiablePresentation,
  type ThresholdCredential,
  type ThresholdProof,
  type ThresholdVerifiablePresentation,
} from './vc.ts';
export {
  AGENT_CARD_SUBSET_SCHEMA,
  MAX_CARD_CHARS,
  PRESENTATION_FORMATS,
  TRUST_EXTENSION_PARAMS_SCHEMA,
  TRUST_EXTENSION_URI,
  checkAgentCardTrust,
  readTrustExtension,
  trustExtension,
  type AgentExtension,
  type CardTrustOptions,
  type CardTrustReason,
  type CardTrustResult,
  type PresentationFormat,
  type TrustExtensionParams,
  type TrustRequest,
} from './a2a.ts';
export {
  AGT_TIERS,
  agtTier,
  createAgtPolicyBackend,
  createAgtTrustProvider,
  type AgtBackendOutcome,
  type AgtPolicyBackend,
  type AgtTrustEvaluation,
  type AgtTrustProvider,
  type AgtTrustProviderOptions,
  type AgtTrustTier,
} from './agt.ts';
