/**
 * The wire types of the protocol, in one module shared by the service, the clients, the audit
 * and the verifier (type-only imports: nothing here runs, so the verifier stays
 * browser-safe). The zod schemas of src/protocol/schemas.ts validate the same shapes at the
 * service's edge and generate the OpenAPI document.
 * @module
 */
import type { ForgeableBy, KeyMode, KeySetDescriptor } from '../crypto/key-set.ts';
import type { ScheduledKeySet } from '../keys/key-ring.ts';
import type { Groth16VerificationKey } from '../verifier/groth16.ts';

export interface Signed<T> {
  body: T;
  /** did:key of the aggregator. */
  signer: string;
  /** Ed25519 over signingBytes(type, body), hex. */
  signature: string;
}

export interface TreeHeadBody {
  size: number;
  root: string;
  timestamp: number;
}

export interface ReceiptBody {
  org: string;
  /** The submission's entries are [firstIndex, firstIndex + count) of the log. */
  firstIndex: number;
  count: number;
  /** A tree head that includes them. */
  treeHead: TreeHeadBody;
  /** The time (ms since the epoch) by which they will be in a proven batch. */
  deadline: number;
}

/** A receipt as the aggregator signs it (POST /v1/records). */
export type Receipt = Signed<ReceiptBody>;

export interface CheckpointBody {
  sequence: number;
  config: string;
  stateRoot: string;
  chain: string;
  logSize: number;
  policyHash: string;
  time: number;
  /** The key set the batch was proven under (src/crypto/key-set.ts), and its mode. */
  keySetHash: string;
  keyMode: KeyMode;
}

/** A checkpoint as the aggregator signs it (GET /v1/checkpoints/latest, presentations). */
export type Checkpoint = Signed<CheckpointBody>;

/**
 * One checkpoint of GET /v1/checkpoints: the signed checkpoint, the log entries its batch
 * applied, and when the first and last of them were accepted (by the aggregator's clock,
 * unsigned; absent for a batch of no entries), so that anyone can see how long entries
 * waited for their proof.
 */
export interface CheckpointSummary {
  checkpoint: Signed<CheckpointBody>;
  fromIndex: number;
  toIndex: number;
  firstAcceptedAt?: number;
  lastAcceptedAt?: number;
}

/**
 * What the aggregator answers a threshold request with: a presentation whose context holds
 * only the hash and expiry the agent sent; the agent forwards it with the verifier's nonce and
 * audience instead of the hash (`Presentation`).
 */
export interface ProofResponse extends Omit<Presentation, 'context'> {
  context: { hash: string; expiry: number };
}

export interface Presentation {
  version: 2;
  circuit: 'threshold';
  config: string;
  agent: string;
  proof: unknown;
  publicSignals: string[];
  context: { nonce: string; audience: string; expiry: number };
  checkpoint: Signed<CheckpointBody>;
  /** The key set the checkpoint names (its hash is the checkpoint's keySetHash) and its threshold verification key. */
  keySet: KeySetDescriptor;
  verificationKey: Groth16VerificationKey;
}

/** GET /v1/keys: a key set as verifiers and auditors need it, with the aggregator's signed document. */
export interface KeyView {
  aggregator: string;
  config: string;
  genesisRoot: string;
  mode: KeyMode;
  keySetHash: string;
  forgeableBy: ForgeableBy;
  fromSequence: number;
  phase1: KeySetDescriptor['phase1'];
  policyHash: string;
  /** Per circuit: its verification key, and its r1cs hash, verification key hash and contribution hashes. */
  circuits: Record<string, { vkey: Groth16VerificationKey; vkeyHash: string; r1cs: string; contributions: string[] }>;
  history: ScheduledKeySet[];
  document: Signed<KeyDocumentBody>;
  transcript?: unknown;
}

/** What the aggregator signs about one of its key sets (GET /v1/keys). */
export interface KeyDocumentBody {
  aggregator: string;
  keySetHash: string;
  descriptor: KeySetDescriptor;
  verificationKeys: Record<string, Groth16VerificationKey>;
  /** The first checkpoint proven under it. */
  fromSequence: number;
}
