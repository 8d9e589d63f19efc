/**
 * What the aggregator needs of a prover, whatever runs it: a child process on this machine
 * (supervised-prover.ts, localProvers: the default) or workers anywhere behind a Redis queue
 * (queue-provers.ts). The aggregator never trusts a prover's answer: it checks the public
 * signals against what it asked and verifies the proof under the key set before it signs a
 * checkpoint or serves a presentation.
 * @module
 */
import type { ProofResult } from './groth16-prover.ts';
import type { CircuitFiles } from './prover-process.ts';

/** `unavailable`: nothing can prove now (a queue without a live worker, or unreachable). */
export type ProverState = 'idle' | 'starting' | 'ready' | 'restarting' | 'unavailable' | 'closed';

export interface ProverStatus {
  name: string;
  state: ProverState;
  pid?: number;
  restarts: number;
  queue: number;
  lastError?: string;
  msmFallback?: string;
}

export interface Prover {
  readonly name: string;
  /** Resolves when the prover can take requests. */
  start(): Promise<unknown>;
  /**
   * Proves `input` for `circuit`; `opts.sequence` names the batch (a queue makes one job per
   * batch, whoever asks and however often).
   * @throws ZkTrustError('unavailable') with a Retry-After when its queue is full.
   */
  prove(circuit: string, input: Record<string, unknown>, opts?: { sequence?: number }): Promise<ProofResult<string>>;
  status(): ProverStatus;
  /**
   * How many proofs it makes at once (the workers behind a queue); 1 when absent. The
   * sequencer builds that many batches ahead, and one more.
   */
  capacity?(): number;
  close(): Promise<void>;
}

/** What a prover is made for: one circuit of one key set. */
export interface ProverSpec {
  name: string;
  /** The key set its proving keys belong to. */
  keySetHash: string;
  circuits: readonly CircuitFiles[];
  /** Requests queued or in progress beyond which prove() refuses at once. */
  maxQueue: number;
  onRestart?: (reason: string) => void;
  onQueue?: (depth: number) => void;
}

export type ProverFactory = (spec: ProverSpec) => Prover;

/** `inner` with `prove` in place of its own (which `prove` may call): timing, tests. */
export function wrapProver(inner: Prover, prove: Prover['prove']): Prover {
  return {
    name: inner.name, start: () => inner.start(), status: () => inner.status(), close: () => inner.close(), prove,
    ...(inner.capacity ? { capacity: () => inner.capacity!() } : {}),
  };
}
