/**
 * The provers of the key sets in use, behind the Prover interface (src/prover/prover.ts):
 * per key set, the batch provers of the sequencer and one prover of presentations, so that a
 * presentation never waits for a batch proof on this machine. What runs them is the factory's
 * business: child processes here (the default) or workers behind a Redis queue, where batches
 * and presentations share the workers and presentations go first.
 * @module
 */
import type { KeySet } from '../keys/key-set-dir.ts';
import { loadAddon } from '../native/addon.ts';
import { ZkTrustError } from '../errors.ts';
import type { Prover, ProverFactory, ProverStatus } from '../prover/prover.ts';
import { PUBLIC_SIGNALS } from '../prover/proof-jobs.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { Telemetry } from './telemetry.ts';

export interface KeySetProvers {
  batch: Prover[];
  threshold: Prover;
}

export interface ProverPoolOptions {
  factory: ProverFactory;
  keys: KeyRing;
  /** Batch provers per key set (ZKTRUST_BATCH_PROVERS). */
  batchProvers: number;
  /** Presentations queued at most (per worker behind a queue); more get 503. */
  maxQueuedPresentations: number;
  logger: (entry: Record<string, unknown>) => void;
  telemetry?: Telemetry;
}

export class ProverPool {
  private readonly sets = new Map<string, KeySetProvers>();
  private enabled = false;

  constructor(private readonly opts: ProverPoolOptions) {}

  /**
   * Starts the provers of the key set of the next batch (and of the latest checkpoint's, for
   * presentations, if it differs).
   */
  async start(next: KeySet, latest?: KeySet): Promise<void> {
    // Build the native multiexponentiation once here, not in every child at once.
    await loadAddon('msm-bn254');
    this.enabled = true;
    const p = this.of(next);
    await Promise.all([...p.batch.map((b) => b.start()), p.threshold.start()]);
    if (latest && latest.hash !== next.hash) await this.of(latest).threshold.start();
    const reason = p.batch[0]!.status().msmFallback ?? p.threshold.status().msmFallback;
    if (reason) this.opts.logger({ level: 'warn', msg: 'native multiexponentiation unavailable; proofs use WebAssembly only', reason });
  }

  /**
   * The provers of a key set, made on first use (each restarts itself when it dies).
   * @throws ZkTrustError unavailable once closed or before start.
   */
  of(set: KeySet): KeySetProvers {
    let p = this.sets.get(set.hash);
    if (!p) {
      if (!this.enabled) throw new ZkTrustError('unavailable', 'the provers are not running');
      const { keys, logger, telemetry } = this.opts;
      const make = (circuit: string, publicNames: readonly string[], maxQueue: number, k = 0) => {
        const name = `${circuit}/${set.hash.slice(0, 12)}${k > 0 ? `#${k + 1}` : ''}`;
        return this.opts.factory({
          name,
          keySetHash: set.hash,
          circuits: [{ circuit, wasmPath: keys.wasmPath(circuit), zkeyPath: set.zkeyPaths[circuit]!, publicNames }],
          maxQueue,
          onRestart: (reason) => {
            logger({ level: 'error', msg: 'prover died; restarting', prover: name, reason });
            telemetry?.proverRestarts.inc({ prover: circuit });
          },
          onQueue: (depth) => telemetry?.proverQueue.set({ prover: circuit }, depth),
        });
      };
      p = {
        // A batch proving, one built ahead, and a retry.
        batch: Array.from({ length: this.opts.batchProvers }, (_, k) => make('batch-update', PUBLIC_SIGNALS['batch-update']!, 3, k)),
        threshold: make('threshold', PUBLIC_SIGNALS.threshold!, this.opts.maxQueuedPresentations),
      };
      this.sets.set(set.hash, p);
    }
    return p;
  }

  /** The batch provers of a key set if they run (the sequencer's pipeline width). */
  batchProvers(hash: string): Prover[] | undefined {
    return this.sets.get(hash)?.batch;
  }

  /** Stops the provers of key sets not in `keep`. */
  async retire(keep: ReadonlySet<string>): Promise<void> {
    for (const [hash, p] of this.sets) {
      if (keep.has(hash)) continue;
      this.sets.delete(hash);
      await closeAll(p);
    }
  }

  /** Every prover's state (readiness, tests). */
  status(): ProverStatus[] {
    return [...this.sets.values()].flatMap((p) => [...p.batch.map((b) => b.status()), p.threshold.status()]);
  }

  async close(): Promise<void> {
    this.enabled = false;
    const all = [...this.sets.values()];
    this.sets.clear();
    await Promise.all(all.map(closeAll));
  }
}

function closeAll(p: KeySetProvers): Promise<unknown> {
  return Promise.all([...p.batch.map((b) => b.close()), p.threshold.close()]);
}
