/**
 * Provers behind a Redis queue (BullMQ): with ZKTRUST_REDIS_URL set, the aggregator adds
 * proving jobs (proof-jobs.ts) and any number of `zktrust worker` processes, on any machine,
 * take them. BullMQ gives what a hand-written queue would have to earn: a job whose worker
 * dies stays locked only until its lock lapses and is then taken by another worker (stalled
 * job recovery), failed jobs are retried with backoff, and a job id names one job whoever
 * adds it. The aggregator still trusts no answer (aggregator.ts checks and verifies each).
 *
 * One pool per aggregator: one queue connection, one event stream, and the live worker count
 * (polled, for readiness and the sequencer's pipeline width). Each Prover it makes is a view
 * of the pool for one circuit of one key set.
 * @module
 */
import { Queue, QueueEvents, type Job } from 'bullmq';
import { ZkTrustError } from '../errors.ts';
import type { ProofResult } from './groth16-prover.ts';
import { JOB_PRIORITY, parseProofJobResult, PROOF_QUEUE, proofJobData, proofJobId, DEFAULT_QUEUE_PREFIX } from './proof-jobs.ts';
import type { Prover, ProverFactory, ProverSpec, ProverStatus } from './prover.ts';

export interface QueueProverOptions {
  /** Redis key prefix (default "zktrust"): deployments sharing a Redis need their own. */
  prefix?: string;
  /** How long a presentation waits for a worker before 503 (default 120 s). */
  presentationTimeoutMs?: number;
  /**
   * How long the sequencer waits for a batch job before it asks again (default 5 min). Asking
   * again finds the same job if Redis still has it, or adds it anew if Redis lost it.
   */
  batchWaitMs?: number;
  /** How often the live workers are counted (default 2 s). */
  workerPollMs?: number;
  /** Attempts per job before it fails (default 3): a worker that throws or dies mid-job. */
  attempts?: number;
}

/** Connection options from a redis:// URL (host, port, password, db). */
export function redisConnection(url: string): { host: string; port: number; password?: string; username?: string; db?: number; maxRetriesPerRequest: null } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`ZKTRUST_REDIS_URL is not a URL: ${url}`);
  }
  if (u.protocol !== 'redis:') throw new Error(`ZKTRUST_REDIS_URL must be a redis:// URL, got ${u.protocol}`);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isSafeInteger(db)) throw new Error(`ZKTRUST_REDIS_URL: the database must be a number, got ${u.pathname.slice(1)}`);
  return {
    host: u.hostname || '127.0.0.1', port: Number(u.port || 6379),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}), ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(db !== undefined ? { db } : {}),
    // BullMQ's requirement for blocking connections; the queue side retries on its own.
    maxRetriesPerRequest: null,
  };
}

export class QueueProverPool {
  readonly queue: Queue;
  private readonly events: QueueEvents;
  private readonly opts: Required<QueueProverOptions>;
  private workers = 0;
  private lastError?: string;
  private readonly poll: NodeJS.Timeout;
  private closed = false;

  constructor(redisUrl: string, opts: QueueProverOptions = {}) {
    // Each default stands unless a value is given (an option given as undefined keeps it).
    this.opts = {
      prefix: opts.prefix ?? DEFAULT_QUEUE_PREFIX, presentationTimeoutMs: opts.presentationTimeoutMs ?? 120_000, batchWaitMs: opts.batchWaitMs ?? 300_000,
      workerPollMs: opts.workerPollMs ?? 2000, attempts: opts.attempts ?? 3,
    };
    const connection = redisConnection(redisUrl);
    // Adding a job fails at once while Redis is unreachable (a presentation answers 503, the
    // sequencer retries) rather than waiting in ioredis's offline queue.
    this.queue = new Queue(PROOF_QUEUE, { connection: { ...connection, enableOfflineQueue: false }, prefix: this.opts.prefix });
    this.events = new QueueEvents(PROOF_QUEUE, { connection, prefix: this.opts.prefix });
    // A queue that cannot reach Redis reports it through readiness, not an unhandled event.
    this.queue.on('error', (e) => (this.lastError = e.message));
    this.events.on('error', (e) => (this.lastError = e.message));
    this.poll = setInterval(() => void this.countWorkers(), this.opts.workerPollMs);
    this.poll.unref();
  }

  /** Resolves once Redis answers and the live workers are counted. */
  async start(): Promise<void> {
    await Promise.all([this.queue.waitUntilReady(), this.events.waitUntilReady()]);
    await this.countWorkers();
  }

  private async countWorkers(): Promise<void> {
    try {
      this.workers = (await this.queue.getWorkers()).length;
      this.lastError = undefined;
    } catch (e) {
      this.lastError = (e as Error).message;
    }
  }

  /** Live workers at the last count. */
  get workerCount(): number {
    return this.workers;
  }

  /** The factory the aggregator makes its provers with. */
  readonly factory: ProverFactory = (spec) => this.prover(spec);

  private prover(spec: ProverSpec): Prover {
    const circuit = spec.circuits[0]!;
    let queued = 0;
    const pool = this;
    return {
      name: spec.name,
      start: () => pool.start(),
      capacity: () => Math.max(1, pool.workers),
      status(): ProverStatus {
        const state = pool.closed ? 'closed' : pool.workers > 0 && !pool.lastError ? 'ready' : 'unavailable';
        const detail = pool.lastError ?? (pool.workers === 0 ? 'no worker connected' : undefined);
        return { name: `${spec.name} (redis, ${pool.workers} worker${pool.workers === 1 ? '' : 's'})`, state, restarts: 0, queue: queued, ...(detail ? { lastError: detail } : {}) };
      },
      close: async () => {},
      async prove(name, input, opts = {}) {
        if (name !== circuit.circuit) throw new Error(`this prover proves ${circuit.circuit}, not ${name}`);
        // The bound scales with the workers behind the queue.
        if (queued >= spec.maxQueue * Math.max(1, pool.workers)) throw new ZkTrustError('unavailable', `the provers are busy (${queued} proofs queued); retry later`, { retryAfterS: 2 });
        queued++;
        spec.onQueue?.(queued);
        try {
          return await pool.run(spec.keySetHash, circuit.circuit, circuit.publicNames, input, opts.sequence);
        } finally {
          queued--;
          spec.onQueue?.(queued);
        }
      },
    };
  }

  /** Adds (or finds) the job of this proof and waits for its result. */
  private async run(keySetHash: string, circuit: string, publicNames: readonly string[], input: Record<string, unknown>, sequence?: number): Promise<ProofResult<string>> {
    if (this.closed) throw new ZkTrustError('unavailable', 'the provers are closed');
    const data = proofJobData(circuit, keySetHash, input);
    const jobId = proofJobId(data, sequence);
    const presentation = circuit === 'threshold';
    let job: Job;
    try {
      // An id already in the queue (waiting, running, done or failed) returns that job.
      job = await this.queue.add(circuit, data, {
        jobId,
        priority: JOB_PRIORITY[circuit as keyof typeof JOB_PRIORITY] ?? 10,
        attempts: this.opts.attempts,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { age: 3600, count: 1000 },
        removeOnFail: { age: 24 * 3600 },
      });
    } catch (e) {
      throw new ZkTrustError('unavailable', `the proving queue is unreachable: ${(e as Error).message}`, { retryAfterS: 5 });
    }
    let value: unknown;
    try {
      value = await job.waitUntilFinished(this.events, presentation ? this.opts.presentationTimeoutMs : this.opts.batchWaitMs);
    } catch (e) {
      const msg = (e as Error).message;
      if (/timed out/i.test(msg)) throw new ZkTrustError('unavailable', `no worker finished job ${jobId} in time`, { retryAfterS: 5 });
      // A job that failed every attempt is dropped, so that asking again is a new try.
      await job.remove().catch(() => undefined);
      throw new Error(`proving job ${jobId} failed: ${msg}`);
    }
    const r = parseProofJobResult(value, publicNames.length);
    return { ...r, named: Object.fromEntries(publicNames.map((n, i) => [n, BigInt(r.publicSignals[i]!)])) };
  }

  /** Closes the queue connections (jobs and workers stay in Redis). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.poll);
    // Closing says goodbye to Redis, which waits for ever while Redis is away (and so does
    // a forced disconnect): give it a moment, then drop the connections without waiting.
    const closed = Promise.allSettled([this.events.close(), this.queue.close()]).then(() => true);
    if (!(await Promise.race([closed, new Promise<false>((r) => setTimeout(() => r(false), 2000).unref())]))) {
      void Promise.allSettled([this.events.disconnect(), this.queue.disconnect()]);
    }
  }
}
