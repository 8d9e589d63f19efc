/**
 * A prover child process under supervision: started on first use, restarted when it dies
 * (with a growing delay: 0.25 s doubling to 10 s, back to the start after a minute of
 * health), with a bounded queue.
 *
 * A request that was being proven when the child died fails (the caller retries: the
 * sequencer retries its batch, an agent its presentation); requests that arrive while it
 * restarts wait for the new child. A request that would make the queue longer than
 * `maxQueue` is refused at once with ZkTrustError('unavailable') and a Retry-After, so that a
 * flood of presentations never piles up unbounded work or memory.
 * @module
 */
import { ZkTrustError } from '../errors.ts';
import type { ProofResult } from './groth16-prover.ts';
import type { Prover, ProverFactory, ProverState, ProverStatus } from './prover.ts';
import { ProverProcess, type CircuitFiles } from './prover-process.ts';

export class SupervisedProver implements Prover {
  private process?: Promise<ProverProcess>;
  private state: ProverState = 'idle';
  private restarts = 0;
  private queued = 0;
  private lastError?: string;
  private delayMs = 250;
  private healthySince = 0;
  private closed = false;
  private msmFallback?: string;
  private pidNow?: number;

  constructor(
    readonly name: string,
    private readonly circuits: readonly CircuitFiles[],
    private readonly opts: { maxQueue: number; retryAfterS?: number; onRestart?: (reason: string) => void; onQueue?: (depth: number) => void },
  ) {}

  /** Starts the child if it is not running; resolves when it is ready. */
  start(): Promise<ProverProcess> {
    if (this.closed) return Promise.reject(new ZkTrustError('unavailable', 'the prover is closed'));
    if (!this.process) {
      this.state = this.state === 'idle' ? 'starting' : 'restarting';
      const started = ProverProcess.start(this.circuits).then(
        (p) => {
          if (this.closed) {
            void p.close();
            throw new ZkTrustError('unavailable', 'the prover is closed');
          }
          this.state = 'ready';
          this.healthySince = Date.now();
          this.msmFallback = p.msmFallback;
          this.pidNow = p.pid;
          p.onUnexpectedExit((reason) => this.died(reason));
          return p;
        },
        (e: Error) => {
          this.died(e.message);
          throw new ZkTrustError('unavailable', `the prover could not start: ${e.message}`);
        },
      );
      this.process = started;
    }
    return this.process;
  }

  // Forget the dead child and start another after the backoff delay.
  private died(reason: string): void {
    this.process = undefined;
    this.pidNow = undefined;
    this.lastError = reason;
    if (this.closed) return;
    this.state = 'restarting';
    this.restarts++;
    if (Date.now() - this.healthySince > 60_000) this.delayMs = 250;
    const delay = this.delayMs;
    this.delayMs = Math.min(10_000, this.delayMs * 2);
    this.opts.onRestart?.(reason);
    setTimeout(() => {
      if (!this.closed && !this.process) void this.start().catch(() => undefined);
    }, delay).unref();
  }

  /**
   * Proves on the child, waiting for it to (re)start if needed.
   * @throws ZkTrustError('unavailable') when the queue is full or the prover is closed; the
   *   child's error when the input does not satisfy the circuit or the child died meanwhile.
   */
  async prove(circuit: string, input: Record<string, unknown>): Promise<ProofResult<string>> {
    if (this.closed) throw new ZkTrustError('unavailable', 'the prover is closed');
    if (this.queued >= this.opts.maxQueue) {
      throw new ZkTrustError('unavailable', `the prover is busy (${this.queued} proofs queued); retry later`, { retryAfterS: this.opts.retryAfterS ?? 2 });
    }
    this.queued++;
    this.opts.onQueue?.(this.queued);
    try {
      const p = await this.start();
      return await p.prove(circuit, input);
    } finally {
      this.queued--;
      this.opts.onQueue?.(this.queued);
    }
  }

  status(): ProverStatus {
    return {
      name: this.name,
      state: this.state,
      ...(this.pidNow !== undefined ? { pid: this.pidNow } : {}),
      restarts: this.restarts,
      queue: this.queued,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.msmFallback ? { msmFallback: this.msmFallback } : {}),
    };
  }

  /** Stops the child; queued and later requests fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.state = 'closed';
    const p = this.process;
    this.process = undefined;
    await p?.then((x) => x.close(), () => undefined);
  }
}

/** The default prover factory: a supervised child process on this machine per spec. */
export const localProvers: ProverFactory = (spec) => new SupervisedProver(spec.name, spec.circuits, spec);
