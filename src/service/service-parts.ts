/**
 * What every role of the aggregator (registry, ingestion, sequencer, presenter) shares: the
 * store, the aggregator's signing key, logging, telemetry and counters. The roles depend on
 * this and on each other only through what their constructors name.
 * @module
 */
import { signingBytes } from '../crypto/canonical.ts';
import type { Signed } from '../protocol/wire.ts';
import type { Store } from '../store/db.ts';
import type { Telemetry } from './telemetry.ts';

/** Counters for /metrics and backpressure. */
export interface ServiceMetrics {
  recordsAccepted: number;
  logWrites: number;
  submissionsRejected: number;
  batchesProven: number;
  /** Commit-to-commit time of the batches proven so far (the pipeline's pace). */
  batchProveMs: number;
  presentations: number;
  presentationCacheHits: number;
}

export interface ServiceParts {
  store: Store;
  /** The aggregator's did:key. */
  did: string;
  /** Signs `body` as a message of `type` (src/crypto/canonical.ts) under the aggregator's key. */
  signed<T>(type: string, body: T): Signed<T>;
  logger: (entry: Record<string, unknown>) => void;
  telemetry?: Telemetry;
  metrics: ServiceMetrics;
  /** False after a write to the store failed, until one succeeds (readiness). */
  health: { storeHealthy: boolean };
}

/** The parts, from a signing function over raw bytes. */
export function serviceParts(o: Omit<ServiceParts, 'signed' | 'metrics' | 'health'> & { sign: (message: Uint8Array) => Uint8Array }): ServiceParts {
  const { sign, ...rest } = o;
  return {
    ...rest,
    signed: <T>(type: string, body: T): Signed<T> => ({ body, signer: o.did, signature: Buffer.from(sign(signingBytes(type, body))).toString('hex') }),
    metrics: { recordsAccepted: 0, logWrites: 0, submissionsRejected: 0, batchesProven: 0, batchProveMs: 0, presentations: 0, presentationCacheHits: 0 },
    health: { storeHealthy: true },
  };
}

/** Whether `signals` (decimal strings, in circuit order) are exactly the public values `expected`. */
export function sameStatement(names: readonly string[], expected: Readonly<Record<string, bigint>>, signals: unknown): boolean {
  return Array.isArray(signals) && signals.length === names.length && names.every((n, i) => typeof signals[i] === 'string' && signals[i] === expected[n]?.toString());
}
