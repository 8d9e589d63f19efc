/**
 * `zktrust worker`: takes proving jobs from the Redis queue (proof-jobs.ts), proves them in a
 * supervised child process (so that the worker's own event loop keeps renewing its job lock
 * while a proof holds the cores), and returns the proof.
 *
 * Keys: a job names the key set it is for. The worker fetches that key set's document and
 * proving keys from the aggregator once, keeps them in its cache directory, and proves only
 * after openKeySetDir has checked them against its own compiled circuits (the manifest's
 * r1cs and wasm) and the key set hash: the descriptor hashes to the job's key set hash, each
 * verification key to the descriptor's, each proving key's contribution records and
 * verification key to the descriptor's. A worker given other keys refuses the job (it fails
 * and is retried elsewhere). None of this makes a worker trusted: the aggregator verifies
 * every proof it returns.
 * @module
 */
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Worker, type Job } from 'bullmq';
import { keySetHash, parseKeySetDescriptor } from '../crypto/key-set.ts';
import { CIRCUIT_POLICY, policyHash } from '../crypto/score-policy.ts';
import { KEY_SET_FILE, KeySetError, openKeySetDir, sha256OfFile, writeKeySetFile, type KeySet } from '../keys/key-set-dir.ts';
import type { Groth16VerificationKey } from '../verifier/groth16.ts';
import { compiledCircuits, type CompiledCircuitFiles } from './artifacts.ts';
import { DEFAULT_QUEUE_PREFIX, PROOF_QUEUE, PUBLIC_SIGNALS, type ProofJobData, type ProofJobResult } from './proof-jobs.ts';
import { redisConnection } from './queue-provers.ts';
import { SupervisedProver } from './supervised-prover.ts';

const HASH = /^[0-9a-f]{64}$/;

export interface WorkerOptions {
  redisUrl: string;
  /** The aggregator the key sets are fetched from. */
  aggregatorUrl: string;
  /** Where fetched key sets are kept (checked again before use). */
  cacheDir: string;
  /** The circuit configuration this worker compiled (circuits/circuits.json). */
  config: string;
  /** Redis key prefix (the aggregator's). */
  prefix?: string;
  /** Jobs at once (default 1: one proof already spreads over every core). */
  concurrency?: number;
  /**
   * How long a job stays locked to a worker that stops renewing it (a dead worker) before
   * another worker takes it (default 30 s).
   */
  lockDurationMs?: number;
  log: (entry: Record<string, unknown>) => void;
}

export class ProofWorker {
  private readonly worker: Worker<ProofJobData, ProofJobResult>;
  private readonly opts: WorkerOptions;
  private readonly circuits: Record<string, CompiledCircuitFiles>;
  private readonly keySets = new Map<string, Promise<KeySet>>();
  private readonly provers = new Map<string, SupervisedProver>();
  /** Jobs proven by this worker. */
  proven = 0;

  private constructor(opts: WorkerOptions) {
    this.opts = opts;
    // Throws ArtifactError if this installation's circuits are not the manifest's.
    this.circuits = compiledCircuits(opts.config);
    const lockDuration = opts.lockDurationMs ?? 30_000;
    this.worker = new Worker<ProofJobData, ProofJobResult>(PROOF_QUEUE, (job) => this.process(job), {
      connection: redisConnection(opts.redisUrl),
      prefix: opts.prefix ?? DEFAULT_QUEUE_PREFIX,
      concurrency: opts.concurrency ?? 1,
      name: `${hostname()}-${process.pid}`,
      lockDuration,
      stalledInterval: lockDuration,
      // A job whose workers keep dying is given up after a few, not retried for ever.
      maxStalledCount: 3,
      autorun: false,
    });
    this.worker.on('failed', (job, e) => opts.log({ level: 'warn', msg: 'job failed', job: job?.id, attempt: job?.attemptsMade, error: e.message }));
    this.worker.on('error', (e) => opts.log({ level: 'error', msg: 'queue error', error: e.message }));
  }

  /** Connects to Redis and starts taking jobs. */
  static async start(opts: WorkerOptions): Promise<ProofWorker> {
    const w = new ProofWorker(opts);
    await w.worker.waitUntilReady();
    await w.warmUp();
    void w.worker.run().catch((e: Error) => opts.log({ level: 'error', msg: 'worker stopped', error: e.message }));
    opts.log({ level: 'info', msg: 'worker ready', queue: PROOF_QUEUE, config: opts.config, aggregator: opts.aggregatorUrl, pid: process.pid });
    return w;
  }

  /**
   * Fetches and checks the aggregator's current key set and starts its provers, so that the
   * first job does not wait for them. An unreachable aggregator is no error here: jobs fetch
   * their key sets when they come.
   */
  private async warmUp(): Promise<void> {
    try {
      const res = await fetch(`${this.opts.aggregatorUrl.replace(/\/+$/, '')}/v1/keys`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const { keySetHash: hash } = (await res.json()) as { keySetHash?: unknown };
      if (typeof hash !== 'string' || !HASH.test(hash)) throw new Error('the aggregator names no key set');
      await Promise.all(Object.keys(PUBLIC_SIGNALS).map(async (c) => (await this.proverFor(hash, c)).start()));
    } catch (e) {
      this.opts.log({ level: 'warn', msg: 'the current key set could not be loaded ahead; jobs will fetch theirs', error: (e as Error).message });
    }
  }

  private async process(job: Job<ProofJobData, ProofJobResult>): Promise<ProofJobResult> {
    const { circuit, keySetHash: hash, input } = job.data;
    if (!PUBLIC_SIGNALS[circuit] || !this.circuits[circuit]) throw new Error(`unknown circuit ${String(circuit)}`);
    if (typeof hash !== 'string' || !HASH.test(hash)) throw new Error('the job names no key set hash');
    if (typeof input !== 'object' || input === null) throw new Error('the job has no input');
    const t0 = performance.now();
    this.opts.log({ level: 'info', msg: 'proving', job: job.id, circuit, attempt: job.attemptsStarted });
    const prover = await this.proverFor(hash, circuit);
    const r = await prover.prove(circuit, input);
    this.proven++;
    this.opts.log({ level: 'info', msg: 'proved', job: job.id, circuit, keySetHash: hash.slice(0, 12), ms: Math.round(performance.now() - t0) });
    return { proof: r.proof, publicSignals: r.publicSignals };
  }

  private async proverFor(hash: string, circuit: string): Promise<SupervisedProver> {
    const id = `${hash}/${circuit}`;
    let p = this.provers.get(id);
    if (!p) {
      const set = await this.keySet(hash);
      p = new SupervisedProver(`${circuit}/${hash.slice(0, 12)}`, [{ circuit, wasmPath: this.circuits[circuit]!.wasmPath, zkeyPath: set.zkeyPaths[circuit]!, publicNames: PUBLIC_SIGNALS[circuit]! }], {
        maxQueue: (this.opts.concurrency ?? 1) + 1,
        onRestart: (reason) => this.opts.log({ level: 'error', msg: 'prover died; restarting', prover: id, reason }),
      });
      this.provers.set(id, p);
    }
    return p;
  }

  /** The key set `hash`, from the cache or fetched, checked (see the module comment). */
  private keySet(hash: string): Promise<KeySet> {
    let set = this.keySets.get(hash);
    if (!set) {
      set = this.loadKeySet(hash);
      // A failure is not remembered: the next job tries again.
      set.catch(() => this.keySets.delete(hash));
      this.keySets.set(hash, set);
    }
    return set;
  }

  private async loadKeySet(hash: string): Promise<KeySet> {
    const dir = join(this.opts.cacheDir, hash);
    const expect = { config: this.opts.config, policyHash: policyHash(CIRCUIT_POLICY).toString(), r1cs: Object.fromEntries(Object.entries(this.circuits).map(([n, c]) => [n, c.r1cs])) };
    if (existsSync(join(dir, KEY_SET_FILE))) {
      try {
        return this.checked(await openKeySetDir(dir, expect), hash);
      } catch (e) {
        this.opts.log({ level: 'warn', msg: 'cached key set refused; fetching it again', keySetHash: hash, error: (e as Error).message });
        await rm(dir, { recursive: true, force: true });
      }
    }
    await this.fetchKeySet(hash, dir);
    const set = this.checked(await openKeySetDir(dir, expect), hash);
    this.opts.log({ level: 'info', msg: 'key set fetched and checked', keySetHash: hash, mode: set.descriptor.mode });
    return set;
  }

  private checked(set: KeySet, hash: string): KeySet {
    if (set.hash !== hash) throw new KeySetError(`the key set in ${set.dir} hashes to ${set.hash}, not ${hash}`);
    return set;
  }

  private async fetchKeySet(hash: string, dir: string): Promise<void> {
    const base = this.opts.aggregatorUrl.replace(/\/+$/, '');
    const res = await fetch(`${base}/v1/keys/${hash}`);
    if (!res.ok) throw new KeySetError(`the aggregator has no key set ${hash} (HTTP ${res.status})`);
    const doc = (await res.json()) as { document?: { body?: { descriptor?: unknown; verificationKeys?: Record<string, Groth16VerificationKey> } } };
    const descriptor = parseKeySetDescriptor(doc.document?.body?.descriptor, 'descriptor');
    if (keySetHash(descriptor) !== hash) throw new KeySetError(`the aggregator's descriptor of ${hash} hashes to another key set`);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const zkeys: Record<string, string> = {};
    for (const circuit of Object.keys(descriptor.circuits)) {
      if (!/^[a-z0-9-]+$/.test(circuit)) throw new KeySetError(`the key set names a circuit ${circuit}`);
      zkeys[circuit] = await download(`${base}/v1/keys/${hash}/${circuit}.zkey`, join(dir, `${circuit}.zkey`));
    }
    await writeKeySetFile(dir, { descriptor, verificationKeys: doc.document!.body!.verificationKeys ?? {}, zkeys, createdAt: Date.now() });
  }

  /** Stops taking jobs, waits for the one in hand, stops the provers. */
  async close(): Promise<void> {
    await this.worker.close();
    await Promise.all([...this.provers.values()].map((p) => p.close()));
  }
}

/** Downloads `url` to `path` (through a temporary file). @returns the file's sha256. */
async function download(url: string, path: string): Promise<string> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new KeySetError(`${url}: HTTP ${res.status}`);
  const tmp = `${path}.part`;
  await pipeline(Readable.fromWeb(res.body as never), createWriteStream(tmp));
  await rename(tmp, path);
  return sha256OfFile(path);
}
