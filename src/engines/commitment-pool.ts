/**
 * Record commitments computed on every core: large submissions are split across child
 * processes running circomlibjs's WebAssembly Poseidon; small ones (under 64 records) are
 * hashed in-process, where a round trip would cost more than it saves.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { OutcomeRecord } from '../crypto/commitment.ts';
import { TAG_RECORD } from '../crypto/tags.ts';
import { fastCommitment, initFastHash } from './fast-hash.ts';

const WORKER = fileURLToPath(new URL('./commitment-worker.mjs', import.meta.url));
const SPLIT_FROM = 64;

type Reply = { id: number; out?: bigint[]; error?: string };

export class CommitmentPool {
  private readonly workers: ChildProcess[];
  private readonly pending = new Map<number, { resolve: (v: bigint[]) => void; reject: (e: Error) => void }>();
  private nextId = 1;

  private constructor(workers: ChildProcess[]) {
    this.workers = workers;
    for (const w of workers) {
      w.on('message', (m: Reply) => {
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (m.out) p.resolve(m.out);
        else p.reject(new Error(m.error ?? 'commitment worker failed'));
      });
      w.on('exit', () => {
        for (const p of this.pending.values()) p.reject(new Error('commitment worker exited'));
        this.pending.clear();
      });
    }
  }

  /** Starts one worker per core (at least one). */
  static async start(size = Math.max(1, cpus().length)): Promise<CommitmentPool> {
    await initFastHash();
    const workers = await Promise.all(
      Array.from({ length: size }, () => new Promise<ChildProcess>((resolve, reject) => {
        const w = fork(WORKER, [], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        w.once('message', () => resolve(w));
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`commitment worker exited with ${code}`)));
      })),
    );
    return new CommitmentPool(workers);
  }

  /** The commitments of `records`, in order (fields already range-checked by the caller). */
  async commitments(records: readonly OutcomeRecord[]): Promise<bigint[]> {
    if (records.length < SPLIT_FROM || this.workers.length === 0) return records.map(fastCommitment);
    const inputs = records.map((r) => [TAG_RECORD, r.agent, r.org, r.epoch, r.kept, r.broken, r.violations, r.scope, r.salt]);
    const per = Math.ceil(inputs.length / this.workers.length);
    const parts = await Promise.all(
      this.workers.map((w, k) => {
        const chunk = inputs.slice(k * per, (k + 1) * per);
        if (chunk.length === 0) return Promise.resolve([] as bigint[]);
        const id = this.nextId++;
        return new Promise<bigint[]>((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          w.send({ id, inputs: chunk });
        });
      }),
    );
    return parts.flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => new Promise<void>((r) => {
      if (w.exitCode !== null || w.signalCode !== null) return r();
      w.once('exit', () => r());
      w.disconnect();
    })));
  }
}
