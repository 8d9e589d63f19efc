/**
 * zktrust/client: what an organisation, an agent or a ceremony contributor runs against an
 * aggregator (Node). Organisations submit signed commitments of outcome records and check
 * their inclusion; agents ask for threshold presentations about themselves; contributors add
 * their phase-2 randomness to the next key set. Verifiers import zktrust/verifier instead.
 * @module
 */
export { OrgClient, ClientError, type Receipt, type SignedCheckpoint } from './org-client.ts';
export { AgentClient, TIER_THRESHOLDS, type DisclosurePolicy } from './agent-client.ts';
export { CeremonyClient, type ContributionResult } from './ceremony-client.ts';
export { buildSubmission, buildThresholdRequest, randomSalt, type CommitmentFn, type RecordInput, type ThresholdAsk } from './submission.ts';
export { generateKeyPair, publicKeyOf } from '../crypto/ed25519.ts';
export { didFromPublicKey, publicKeyFromDid } from '../crypto/identity.ts';
export { recordCommitment, type OutcomeRecord } from '../crypto/commitment.ts';
export { loadNativePoseidon, type NativePoseidon } from '../engines/native-poseidon.ts';
