/**
 * The key sets of one deployment and the checkpoint from which each is in force.
 *
 * Storage (the `keysets` sublevel, one put per scheduled key set, synced):
 *
 *   keysets/<fromSequence>  -> { fromSequence, keySetHash, source: 'manifest' | 'dir', dir?, scheduledAt }
 *
 * A key set is in force for every batch whose sequence is at least its fromSequence and
 * below the next entry's. `source: 'manifest'` is the repository's own key set for the
 * configuration (development keys under build/); `dir` key sets live in
 * <dataDir>/keys/<keySetHash>/ (key-set-dir.ts). Entries are never removed: batches proven
 * under an earlier key set stay auditable under it.
 *
 * Which key set a service proves with (`KeyRing.open`):
 *   - ZKTRUST_INSECURE_DEV_KEYS=1: the manifest's development keys; refused if the data
 *     directory already proves with other keys (that would be a silent downgrade);
 *   - else a key set configured with ZKTRUST_KEY_SET (a key set directory), scheduled from
 *     the next checkpoint unless it is already in force;
 *   - else the one in force, unless it is a development key set, which is replaced;
 *   - else (first start) `local` keys made now from OS randomness (local-keys.ts).
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, rename, rm } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import { FORGEABLE_BY, type ForgeableBy, type KeyMode } from '../crypto/key-set.ts';
import { ZkTrustError } from '../errors.ts';
import { artifactPaths, loadCircuitArtifacts, manifestKeySet, type CompiledCircuitFiles } from '../prover/artifacts.ts';
import { Store, numKey } from '../store/db.ts';
import type { Groth16VerificationKey } from '../verifier/groth16.ts';
import { KEY_SET_FILE, openKeySetDir, type KeySet } from './key-set-dir.ts';
import { makeLocalKeySet } from './local-keys.ts';

export interface ScheduleEntry {
  fromSequence: number;
  keySetHash: string;
  source: 'manifest' | 'dir';
  /** For `dir`: the key set directory, relative to the data directory. */
  dir?: string;
  /** Milliseconds since the epoch. */
  scheduledAt: number;
}

export interface KeyRingOptions {
  store: Store;
  dataDir: string;
  config: string;
  policyHash: string;
  circuits: Record<string, CompiledCircuitFiles>;
  /** ZKTRUST_INSECURE_DEV_KEYS: prove with the public-seed development keys. */
  insecureDevKeys: boolean;
  /** ZKTRUST_KEY_SET: a key set directory to prove with. */
  keySetDir?: string;
  /** The sequence of the last signed checkpoint (0 before the first). */
  latestSequence: number;
  log: (entry: Record<string, unknown>) => void;
  /** Progress of local key generation: circuit, phase, done, total. */
  onKeyProgress?: (circuit: string, phase: string, done: number, total: number) => void;
}

/** The public view of one scheduled key set. */
export interface ScheduledKeySet {
  fromSequence: number;
  keySetHash: string;
  mode: KeyMode;
  forgeableBy: ForgeableBy;
}

export class KeyRing {
  private readonly entries: ScheduleEntry[];
  private readonly sets = new Map<string, KeySet>();
  private readonly opts: KeyRingOptions;

  private constructor(opts: KeyRingOptions, entries: ScheduleEntry[]) {
    this.opts = opts;
    this.entries = entries;
  }

  /**
   * Loads the schedule, provisions keys if none is in force (see the module comment) and
   * checks every key set that can still prove (the one in force for the latest checkpoint and
   * later ones) down to its proving keys.
   * @throws ZkTrustError('internal') for a data directory whose history has no key sets, or a
   *   refused downgrade to development keys; KeySetError / ArtifactError for bad key files.
   */
  static async open(opts: KeyRingOptions): Promise<KeyRing> {
    const entries: ScheduleEntry[] = [];
    for await (const [, e] of opts.store.range<ScheduleEntry>('keysets')) entries.push(e);
    if (entries.length === 0 && opts.latestSequence > 0) throw new ZkTrustError('internal', 'the data directory has checkpoints but no key set schedule');
    const ring = new KeyRing(opts, entries);
    const next = opts.latestSequence + 1;
    const inForce = () => ring.entryAt(next);
    if (opts.insecureDevKeys) {
      const cur = inForce();
      if (cur && cur.source !== 'manifest') throw new ZkTrustError('internal', 'ZKTRUST_INSECURE_DEV_KEYS: this data directory already proves with non-development keys; refusing to downgrade');
      if (!cur) await ring.schedule(ring.manifestEntry(next));
    } else if (opts.keySetDir) {
      const hash = await ring.importDir(opts.keySetDir);
      if (inForce()?.keySetHash !== hash) await ring.schedule({ fromSequence: next, keySetHash: hash, source: 'dir', dir: join('keys', hash), scheduledAt: Date.now() });
    } else if (!inForce() || inForce()!.source === 'manifest') {
      opts.log({ level: 'info', msg: 'making local keys (OS randomness; first start or replacing development keys)', config: opts.config });
      const t0 = performance.now();
      const hash = await ring.makeLocal();
      opts.log({ level: 'info', msg: 'local keys ready', keySetHash: hash, seconds: Math.round((performance.now() - t0) / 100) / 10 });
      await ring.schedule({ fromSequence: next, keySetHash: hash, source: 'dir', dir: join('keys', hash), scheduledAt: Date.now() });
    }
    // Key sets that can still prove: the one of the latest checkpoint (presentations) and later.
    const provingFrom = ring.entryAt(Math.max(1, opts.latestSequence))!.fromSequence;
    for (const e of ring.entries) await ring.load(e, e.fromSequence >= provingFrom);
    return ring;
  }

  private manifestEntry(fromSequence: number): ScheduleEntry {
    return { fromSequence, keySetHash: manifestKeySet(this.opts.config, this.opts.policyHash).hash, source: 'manifest', scheduledAt: Date.now() };
  }

  private entryAt(sequence: number): ScheduleEntry | undefined {
    let found: ScheduleEntry | undefined;
    for (const e of this.entries) if (e.fromSequence <= sequence) found = e;
    return found;
  }

  private expect(proving: boolean) {
    return { config: this.opts.config, policyHash: this.opts.policyHash, r1cs: Object.fromEntries(Object.entries(this.opts.circuits).map(([n, c]) => [n, c.r1cs])), proving };
  }

  private async load(e: ScheduleEntry, proving: boolean): Promise<KeySet> {
    const have = this.sets.get(e.keySetHash);
    if (have && (!proving || Object.keys(have.zkeyPaths).length > 0)) return have;
    let set: KeySet;
    if (e.source === 'manifest') {
      const { descriptor, hash, verificationKeys } = manifestKeySet(this.opts.config, this.opts.policyHash);
      const zkeyPaths: Record<string, string> = {};
      for (const name of Object.keys(descriptor.circuits)) {
        // Checks the proving key against the manifest (sha256, phase-2 contribution).
        zkeyPaths[name] = proving ? (await loadCircuitArtifacts(this.opts.config, name, { quiet: true })).zkeyPath : artifactPaths(this.opts.config, name).zkey;
      }
      set = { hash, descriptor, verificationKeys: verificationKeys as Record<string, Groth16VerificationKey>, zkeyPaths, dir: '', createdAt: 0 };
    } else {
      set = await openKeySetDir(join(this.opts.dataDir, e.dir!), this.expect(proving));
    }
    if (set.hash !== e.keySetHash) throw new ZkTrustError('internal', `key set ${e.keySetHash.slice(0, 12)}: its files hash to another key set`);
    if (set.descriptor.mode === 'dev') this.opts.log({ level: 'warn', msg: 'INSECURE DEVELOPMENT KEYS: anyone can forge proofs under them (public seed); never use them in production', keySetHash: set.hash, fromSequence: e.fromSequence });
    this.sets.set(set.hash, set);
    return set;
  }

  /** Copies a key set directory into the data directory (checked first); returns its hash. */
  private async importDir(dir: string): Promise<string> {
    const checked = await openKeySetDir(dir, this.expect(true));
    const target = join(this.opts.dataDir, 'keys', checked.hash);
    if (!existsSync(join(target, KEY_SET_FILE))) {
      const tmp = join(this.opts.dataDir, 'keys', `.import-${randomBytes(6).toString('hex')}`);
      await mkdir(join(this.opts.dataDir, 'keys'), { recursive: true });
      try {
        await cp(dir, tmp, { recursive: true });
        await rename(tmp, target);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    }
    return checked.hash;
  }

  private async makeLocal(): Promise<string> {
    const keysDir = join(this.opts.dataDir, 'keys');
    await mkdir(keysDir, { recursive: true });
    const tmp = join(keysDir, `.local-${randomBytes(6).toString('hex')}`);
    try {
      const file = await makeLocalKeySet(
        {
          config: this.opts.config,
          policyHash: this.opts.policyHash,
          circuits: Object.entries(this.opts.circuits).map(([name, c]) => ({ name, r1csPath: c.r1csPath, r1cs: c.r1cs })),
          dir: tmp,
        },
        this.opts.onKeyProgress,
      );
      await rename(tmp, join(keysDir, file.keySetHash));
      return file.keySetHash;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  private async schedule(e: ScheduleEntry): Promise<void> {
    await this.opts.store.write([{ type: 'put', sub: 'keysets', key: numKey(e.fromSequence), value: e }]);
    const i = this.entries.findIndex((x) => x.fromSequence === e.fromSequence);
    if (i >= 0) this.entries[i] = e;
    else this.entries.push(e);
    this.entries.sort((a, b) => a.fromSequence - b.fromSequence);
  }

  /**
   * Schedules a key set directory already inside the data directory (a ceremony's result)
   * from checkpoint `fromSequence`, after checking it down to its proving keys.
   * @throws ZkTrustError('conflict') if `fromSequence` is not after `latestSequence`.
   */
  async scheduleDir(dir: string, fromSequence: number, latestSequence: number): Promise<KeySet> {
    if (!Number.isSafeInteger(fromSequence) || fromSequence <= latestSequence) throw new ZkTrustError('conflict', `a key set can only take effect from a future checkpoint (after ${latestSequence})`);
    const rel = isAbsolute(dir) ? relative(this.opts.dataDir, dir) : dir;
    const set = await openKeySetDir(join(this.opts.dataDir, rel), this.expect(true));
    // Later entries (not yet in force) are replaced by this one.
    const dropped = this.entries.filter((e) => e.fromSequence >= fromSequence);
    await this.opts.store.write(dropped.map((e) => ({ type: 'del' as const, sub: 'keysets' as const, key: numKey(e.fromSequence) })));
    for (const d of dropped) this.entries.splice(this.entries.indexOf(d), 1);
    // The set first: from the moment the schedule names it, at() must find it.
    this.sets.set(set.hash, set);
    await this.schedule({ fromSequence, keySetHash: set.hash, source: 'dir', dir: rel, scheduledAt: Date.now() });
    return set;
  }

  /**
   * The key set in force for the batch with this sequence.
   * @throws ZkTrustError('internal') if none is (never after open).
   */
  at(sequence: number): KeySet {
    const e = this.entryAt(sequence);
    const set = e && this.sets.get(e.keySetHash);
    if (!set) throw new ZkTrustError('internal', `no key set is in force at checkpoint ${sequence}`);
    return set;
  }

  /** A key set of this deployment by its hash. */
  byHash(hash: string): KeySet | undefined {
    return this.sets.get(hash);
  }

  /** The schedule, oldest first. */
  history(): ScheduledKeySet[] {
    return this.entries.map((e) => {
      const mode = this.sets.get(e.keySetHash)!.descriptor.mode;
      return { fromSequence: e.fromSequence, keySetHash: e.keySetHash, mode, forgeableBy: FORGEABLE_BY[mode] };
    });
  }

  /** The fromSequence of a key set in the schedule (its first entry). */
  fromSequenceOf(hash: string): number | undefined {
    return this.entries.find((e) => e.keySetHash === hash)?.fromSequence;
  }

  /** The wasm witness generator of a circuit (shared by every key set of the configuration). */
  wasmPath(circuit: string): string {
    const c = this.opts.circuits[circuit];
    if (!c) throw new ZkTrustError('internal', `no compiled circuit ${circuit}`);
    return c.wasmPath;
  }
}
