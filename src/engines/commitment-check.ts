/**
 * Checks that each submitted commitment is the Poseidon commitment of its opening
 * (src/crypto/commitment.ts), the one per-record hash of ingestion. The native Poseidon
 * (native-poseidon.ts) runs it on the libuv thread pool over both cores; where the addon
 * cannot be built, a pool of child processes with circomlibjs's WebAssembly Poseidon does.
 * @module
 */
import { availableParallelism } from 'node:os';
import type { OutcomeRecord } from '../crypto/commitment.ts';
import { TAG_RECORD } from '../crypto/tags.ts';
import { CommitmentPool } from './commitment-pool.ts';
import { loadNativePoseidon, writeField, type NativePoseidon } from './native-poseidon.ts';

/** A record as ingestion holds it: small fields as numbers, identities and salt as field elements. */
export interface CheckedRecord {
  commitment: bigint;
  agent: bigint;
  epoch: number;
  kept: number;
  broken: number;
  violations: number;
  scope: number;
  salt: bigint;
}

const WIDTH = 9;
// Up to this many records the hashes run on the event loop (39 µs a record here, 0.3 ms for
// 8): a thread-pool round trip costs more than that (134 µs for one record on an idle
// machine, tens of milliseconds when the pool is busy with the store's writes under load).
const SYNC_UP_TO = 8;
// Below this many records one thread-pool job is enough; above, one job per core.
const SPLIT_FROM = 64;
const CORES = Math.max(1, availableParallelism());

export class CommitmentChecker {
  private constructor(
    readonly engine: 'native' | 'wasm',
    private readonly native?: NativePoseidon,
    private readonly pool?: CommitmentPool,
  ) {}

  /**
   * The native checker when it builds, else the WebAssembly pool (the reason is passed to
   * `onFallback`); `engine: 'wasm'` asks for the pool.
   */
  static async start(onFallback?: (reason: string) => void, engine: 'native' | 'wasm' = 'native'): Promise<CommitmentChecker> {
    const native = engine === 'native' ? await loadNativePoseidon(onFallback) : undefined;
    if (native) return new CommitmentChecker('native', native);
    return new CommitmentChecker('wasm', undefined, await CommitmentPool.start());
  }

  /**
   * The index of the first record whose commitment is not the commitment of its opening, or
   * -1 when all match. Every field must already be range-checked.
   */
  async firstMismatch(org: bigint, records: readonly CheckedRecord[]): Promise<number> {
    if (!this.native) {
      const full: OutcomeRecord[] = records.map((r) => ({
        agent: r.agent, org, epoch: BigInt(r.epoch), kept: BigInt(r.kept), broken: BigInt(r.broken), violations: BigInt(r.violations), scope: BigInt(r.scope), salt: r.salt,
      }));
      const computed = await this.pool!.commitments(full);
      return records.findIndex((r, i) => computed[i] !== r.commitment);
    }
    const n = records.length;
    const inputs = new Uint8Array(32 * WIDTH * n);
    const claimed = new Uint8Array(32 * n);
    const prefix = new Uint8Array(32 * 3);
    writeField(prefix, 0, TAG_RECORD);
    writeField(prefix, 64, org);
    const view = new DataView(inputs.buffer);
    for (let k = 0; k < n; k++) {
      const r = records[k]!;
      const o = 32 * WIDTH * k;
      inputs.set(prefix, o);
      writeField(inputs, o + 32, r.agent);
      // Counters are below 2^32 (checked by the caller): the last big-endian word of each.
      view.setUint32(o + 96 + 28, r.epoch);
      view.setUint32(o + 128 + 28, r.kept);
      view.setUint32(o + 160 + 28, r.broken);
      view.setUint32(o + 192 + 28, r.violations);
      view.setUint32(o + 224 + 28, r.scope);
      writeField(inputs, o + 256, r.salt);
      writeField(claimed, 32 * k, r.commitment);
    }
    const out = n <= SYNC_UP_TO ? this.native.hashMany(WIDTH, inputs) : await this.native.hashManyAsync(WIDTH, inputs, n >= SPLIT_FROM ? CORES : 1);
    if (Buffer.compare(out, claimed) === 0) return -1;
    for (let k = 0; k < n; k++) {
      if (Buffer.compare(out.subarray(32 * k, 32 * k + 32), claimed.subarray(32 * k, 32 * k + 32)) !== 0) return k;
    }
    return -1;
  }

  /** 'native, asm' / 'native, portable' (the addon's field arithmetic) or 'wasm'. */
  get description(): string {
    return this.native ? `native, ${this.native.arithmetic}` : 'wasm';
  }

  async close(): Promise<void> {
    await this.pool?.close();
  }
}
