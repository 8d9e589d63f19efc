/**
 * Proving jobs on Redis (BullMQ): what the aggregator (queue-provers.ts) and `zktrust worker`
 * (worker.ts) exchange. One queue carries batch proofs and presentation proofs alike, so that
 * every worker serves both; presentations go first (a person waits for them).
 *
 * A job's id is derived from what it proves: the circuit, the key set and the SHA-256 of its
 * canonical input, and for a batch its sequence. Adding a job that is already queued,
 * running or done is a no-op that returns it, so a proof is made once however often the
 * aggregator asks (a restart, a retry), and a result already made is picked up, not redone.
 * Nothing a worker returns is trusted: the aggregator checks the statement and verifies the
 * proof before it signs or serves anything.
 * @module
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../crypto/canonical.ts';
import { BATCH_PUBLIC_SIGNALS } from '../state/batch.ts';
import { THRESHOLD_PUBLIC_SIGNALS } from '../state/threshold-input.ts';
import type { Groth16Proof } from './groth16-prover.ts';

/** The BullMQ queue name (Redis keys are `<prefix>:<queue>:...`). */
export const PROOF_QUEUE = 'zktrust-proofs';
/** The default Redis key prefix. */
export const DEFAULT_QUEUE_PREFIX = 'zktrust';

/** The public signals of each circuit a job may name, in the circuit's order. */
export const PUBLIC_SIGNALS: Readonly<Record<string, readonly string[]>> = { 'batch-update': BATCH_PUBLIC_SIGNALS, threshold: THRESHOLD_PUBLIC_SIGNALS };

/** Job priorities: lower runs first (BullMQ). */
export const JOB_PRIORITY = { threshold: 1, 'batch-update': 10 } as const;

/** What a worker is asked to prove. */
export interface ProofJobData {
  circuit: string;
  /** The key set to prove under (src/crypto/key-set.ts); the worker checks its keys hash to it. */
  keySetHash: string;
  /** The circuit input with every bigint as a decimal string (canonical JSON). */
  input: Record<string, unknown>;
}

/** What a worker returns: the proof and its public signals as decimal strings. */
export interface ProofJobResult {
  proof: Groth16Proof;
  publicSignals: string[];
}

/** The job's data: `input` with bigints as decimal strings. */
export function proofJobData(circuit: string, keySetHash: string, input: Record<string, unknown>): ProofJobData {
  return { circuit, keySetHash, input: JSON.parse(canonicalJson(input)) as Record<string, unknown> };
}

/**
 * The job id of a proof: the same statement and witness give the same id (no ':' in it, which
 * BullMQ reserves). `sequence`, for a batch, makes the id name the batch as well.
 */
export function proofJobId(data: ProofJobData, sequence?: number): string {
  const digest = createHash('sha256').update(canonicalJson(data)).digest('hex').slice(0, 32);
  return [data.circuit, data.keySetHash.slice(0, 16), ...(sequence !== undefined ? [`seq${sequence}`] : []), digest].join('.');
}

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

/**
 * Checks the shape of a worker's answer (its values are checked by verification later).
 * @throws Error naming what is wrong.
 */
export function parseProofJobResult(v: unknown, publicCount: number): ProofJobResult {
  const r = v as Partial<ProofJobResult> | null;
  if (typeof r !== 'object' || r === null || typeof r.proof !== 'object' || r.proof === null) throw new Error('the worker returned no proof');
  if (!Array.isArray(r.publicSignals) || r.publicSignals.length !== publicCount || !r.publicSignals.every((s) => typeof s === 'string' && DECIMAL.test(s))) {
    throw new Error(`the worker returned public signals that are not ${publicCount} decimal strings`);
  }
  return { proof: r.proof, publicSignals: r.publicSignals };
}
