/**
 * The aggregator: organisation registry, signed ingestion into the transparency log,
 * batches proven off the request path with signed checkpoints, and threshold presentations
 * requested by agents. The HTTP layer (src/api) only validates transport and maps errors;
 * every rule lives here.
 *
 * Durability: an accepted submission (its entries, openings, submission record and nonce)
 * is one LevelDB batch synced to disk before the receipt is returned. A batch proof and its
 * checkpoint are one batch too. After a restart the state is replayed from the stored
 * openings of proven batches and must reach the last checkpoint's root; unproven entries are
 * proven next.
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, signingBytes } from '../crypto/canonical.ts';
import type { OutcomeRecord } from '../crypto/commitment.ts';
import { assertValidPublicKey, publicKeyOf, verifyStrict } from '../crypto/ed25519.ts';
import { didFromPublicKey, identityField, publicKeyFromDid } from '../crypto/identity.ts';
import { maxEpochAt } from '../crypto/epoch.ts';
import { FORGEABLE_BY, type KeyMode } from '../crypto/key-set.ts';
import { setPoseidonBackend } from '../crypto/poseidon.ts';
import { CIRCUIT_POLICY, meetsEvidenceThreshold, policyHash, withinRecordCap } from '../crypto/score-policy.ts';
import { ZkTrustError } from '../errors.ts';
import type { KeySet } from '../keys/key-set-dir.ts';
import { KeyRing, type ScheduledKeySet } from '../keys/key-ring.ts';
import { compiledCircuits } from '../prover/artifacts.ts';
import { loadAddon } from '../native/addon.ts';
import type { ProofResult } from '../prover/groth16-prover.ts';
import { localProvers, type Prover, type ProverFactory, type ProverStatus } from '../prover/prover.ts';
import { verifyGroth16 } from '../verifier/groth16.ts';
import { AgentState, genesisRoot, type AppliedEntry } from '../state/agent-state.ts';
import { BATCH_PUBLIC_SIGNALS, buildBatch, fitBatch, type BatchSlots } from '../state/batch.ts';
import { THRESHOLD_PUBLIC_SIGNALS, buildThresholdInput } from '../state/threshold-input.ts';
import { Store, numKey, type Op } from '../store/db.ts';
import { LRUCache } from 'lru-cache';
import { CeremonyCoordinator } from './ceremony.ts';
import type { RateLimits } from './limits.ts';
import type { Telemetry } from './telemetry.ts';
import { CommitmentChecker, type CheckedRecord } from '../engines/commitment-check.ts';
import { loadNativePoseidon } from '../engines/native-poseidon.ts';
import { signerFor, verifierFor } from '../engines/fast-ed25519.ts';
import { identityOfDid } from '../engines/fast-hash.ts';
import { Ledger, submissionId, type LogEntry, type StoredOpening, type SubmissionRecord } from './ledger.ts';
import { Projection, type ProjectionUndo } from './projection.ts';
import { SnapshotDir } from './snapshots.ts';
export type { CheckpointBody, KeyDocumentBody, KeyView, Presentation, ProofResponse, ReceiptBody, Signed, TreeHeadBody } from '../protocol/wire.ts';
import type { CheckpointBody, KeyDocumentBody, KeyView, ProofResponse, ReceiptBody, Signed, TreeHeadBody } from '../protocol/wire.ts';
import { ChallengeBody, RecordSchema, RegisterOrgBody, ThresholdRequestBody, parseOrThrow, submissionEnvelope } from '../protocol/schemas.ts';

export interface AggregatorConfig {
  dataDir: string;
  /** Circuit configuration from circuits/circuits.json. */
  circuits: string;
  agentDepth: number;
  orgDepth: number;
  /** Slots of the batch circuit: first records of new agents, records of known agents. */
  insertSlots: number;
  updateSlots: number;
  /** Close a partial batch once its oldest entry has waited this long. */
  batchMaxWaitMs: number;
  /** Receipts promise inclusion in a proven batch by acceptance time + this. */
  receiptDeadlineMs: number;
  timestampWindowMs: number;
  maxRecordsPerSubmission: number;
  challengeTtlMs: number;
  /** Longest validity a verifier's context may ask for. */
  maxContextLifetimeS: number;
  /** Proving cost per record assumed until batches have been measured (milliseconds). */
  expectedMsPerRecord: number;
  /** Snapshot the proven state every this many batches (and at shutdown); 0: never. */
  snapshotEveryBatches: number;
  /** Presentations queued on the prover at most; more get 503 with Retry-After. */
  maxQueuedPresentations: number;
  /** Batch provers proving consecutive batches at once (ZKTRUST_BATCH_PROVERS, default 1). */
  batchProvers?: number;
  /** Prove with the public-seed development keys (ZKTRUST_INSECURE_DEV_KEYS=1): tests and demos only. */
  insecureDevKeys: boolean;
  /** A key set directory to prove with (ZKTRUST_KEY_SET); otherwise local keys are made on first start. */
  keySetDir?: string;
}

interface OrgRecord {
  did: string;
  publicKey: string;
  index: number;
  name: string;
  status: 'active' | 'suspended';
  registeredAt: number;
}




/** A batch built on the working state and sent to a prover, waiting to be committed in order. */
interface InFlightBatch {
  sequence: number;
  from: number;
  to: number;
  applied: AppliedEntry[];
  input: ReturnType<typeof buildBatch>;
  maxEpoch: bigint;
  inserts: number;
  t0: number;
  /** The key set its proof is being made under. */
  keySetHash: string;
  /** Never rejects: the proof or the error. */
  result: Promise<{ proof?: ProofResult<string>; error?: Error }>;
  /** `result`, for waiting on (one reaction per proof, however often the sequencer wakes). */
  settled: Promise<unknown>;
}

const NOT_STARTED: InFlightBatch['result'] = Promise.resolve({ error: new Error('not started') });

/** The built batches no longer follow the committed state: they are built again. */
class PipelineOutOfStep extends Error {}
/** The proof held but its checkpoint could not be stored: only the write is retried. */
class StoreWriteFailed extends Error {}

/** A checked submission waiting for the group commit. */
interface PendingAppend {
  record: SubmissionRecord;
  openings: StoredOpening[];
  parsed: OutcomeRecord[];
  resolve: (receipt: Signed<ReceiptBody>) => void;
  reject: (e: unknown) => void;
}


export interface StoredBatch {
  sequence: number;
  fromIndex: number;
  toIndex: number;
  proof: unknown;
  publicSignals: string[];
  checkpoint: Signed<CheckpointBody>;
}





const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A simple async mutex: one registry change at a time keeps organisation indexes dense. */
class Mutex {
  private tail = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

export class Aggregator {
  readonly config: AggregatorConfig;
  readonly did: string;
  private readonly store: Store;
  private ledger!: Ledger;
  private working: AgentState;
  private committed: AgentState;
  private readonly appendLock = new Mutex();
  private readonly appendQueue: PendingAppend[] = [];
  // The organisation registry, loaded at start and written through (it is small).
  private readonly registry = new Map<string, OrgRecord>();
  private readonly orgVerifiers = new Map<string, (signature: Uint8Array, message: Uint8Array) => boolean>();
  private readonly signer: (message: Uint8Array) => Uint8Array;
  private appending = false;
  private readonly policy = CIRCUIT_POLICY;
  private readonly policyHash = policyHash(CIRCUIT_POLICY);
  private keys!: KeyRing;
  /** The organisations' ceremony for the next key set (src/service/ceremony.ts). */
  ceremony!: CeremonyCoordinator;
  // Two provers per key set in use (batches, presentations), so that a presentation never
  // waits for a batch proof.
  private readonly provers = new Map<string, { batch: Prover[]; threshold: Prover }>();
  /** Batches built and being proven, in sequence order (the head is the next to commit). */
  private inflight: InFlightBatch[] = [];
  private lastCommitAt = 0;
  private proverFactory: ProverFactory = localProvers;
  private proversEnabled = false;
  private readonly telemetry?: Telemetry;
  /** False after a write to the store failed, until one succeeds (readiness). */
  storeHealthy = true;
  private readonly limits?: RateLimits;
  // Stateless challenges: an HMAC under this per-process key (see challenge()).
  private readonly challengeKey = randomBytes(32);
  private readonly envelope: ReturnType<typeof submissionEnvelope>;
  // Challenges already answered, until they expire: only a verified agent's request adds one.
  private readonly usedChallenges = new LRUCache<string, true>({ max: 100_000, ttlAutopurge: false });
  private commitments?: CommitmentChecker;
  private proven = 0;
  private sequence = 0;
  private latest?: Signed<CheckpointBody>;
  private readonly snapshots: SnapshotDir;
  private snapshotSequence = 0;
  private snapshotWrite?: Promise<void>;
  private recovered = false;
  private readonly logger: (entry: Record<string, unknown>) => void;
  // Every accepted entry's effect (proven or not), to refuse at ingestion what the batch
  // circuit would refuse: a second record for an epoch, an earlier epoch, a full tree.
  private readonly projected = new Projection();
  // Presentations of the latest checkpoint, by statement and context (cleared at each checkpoint).
  private readonly presentationCache = new LRUCache<string, ProofResponse>({ max: 10_000 });
  private running = false;
  private wake?: () => void;
  private loop?: Promise<void>;
  /** Counters for /metrics. */
  readonly metrics = { recordsAccepted: 0, logWrites: 0, submissionsRejected: 0, batchesProven: 0, batchProveMs: 0, presentations: 0, presentationCacheHits: 0 };

  private constructor(config: AggregatorConfig, store: Store, secretKey: Uint8Array, logger?: (entry: Record<string, unknown>) => void, telemetry?: Telemetry, limits?: RateLimits) {
    this.telemetry = telemetry;
    this.limits = limits;
    this.envelope = submissionEnvelope(config.maxRecordsPerSubmission);
    this.config = config;
    this.logger = logger ?? (() => {});
    this.snapshots = new SnapshotDir(join(config.dataDir, 'snapshots'));
    this.store = store;
    this.signer = signerFor(secretKey);
    this.did = didFromPublicKey(publicKeyOf(secretKey));
    this.working = new AgentState({ agentDepth: config.agentDepth, orgDepth: config.orgDepth });
    this.committed = new AgentState({ agentDepth: config.agentDepth, orgDepth: config.orgDepth });
  }

  /**
   * Opens the data directory (creating the aggregator key on first use), checks the compiled
   * circuits against the manifest, opens the key sets (making local keys on first start,
   * src/keys/key-ring.ts), replays the state and starts the provers.
   * @throws ZkTrustError('internal') if the replayed state does not reach the last checkpoint.
   */
  static async open(
    config: AggregatorConfig,
    opts: {
      startProvers?: boolean;
      log?: (entry: Record<string, unknown>) => void;
      onKeyProgress?: (circuit: string, phase: string, done: number, total: number) => void;
      telemetry?: Telemetry;
      limits?: RateLimits;
      /** What runs the proofs (default: supervised child processes on this machine). */
      provers?: ProverFactory;
    } = {},
  ): Promise<Aggregator> {
    await mkdir(config.dataDir, { recursive: true });
    const keyPath = join(config.dataDir, 'aggregator.key');
    if (!existsSync(keyPath)) await writeFile(keyPath, hex(randomBytes(32)) + '\n', { mode: 0o600, flag: 'wx' });
    const secretKey = Uint8Array.from(Buffer.from((await readFile(keyPath, 'utf8')).trim(), 'hex'));
    const circuits = compiledCircuits(config.circuits);
    const store = await Store.open(join(config.dataDir, 'db'));
    const agg = new Aggregator(config, store, secretKey, opts.log, opts.telemetry, opts.limits);
    if (opts.provers) agg.proverFactory = opts.provers;
    try {
      const last = await store.last<StoredBatch>('batches');
      agg.keys = await KeyRing.open({
        store,
        dataDir: config.dataDir,
        config: config.circuits,
        policyHash: agg.policyHash.toString(),
        circuits,
        insecureDevKeys: config.insecureDevKeys,
        keySetDir: config.keySetDir,
        latestSequence: last?.[1].sequence ?? 0,
        log: agg.logger,
        onKeyProgress: opts.onKeyProgress,
      });
      // The state's trees (and so recovery, batches' witnesses and presentations) hash with
      // the native addon where it builds: ten times the TypeScript Poseidon's pace.
      const native = await loadNativePoseidon();
      if (native) setPoseidonBackend((xs) => native.hash(xs));
      agg.stateHashing = native ? `native, ${native.arithmetic}` : 'typescript';
      await agg.recover();
      agg.ceremony = await CeremonyCoordinator.open({
        store,
        dataDir: config.dataDir,
        config: config.circuits,
        policyHash: agg.policyHash.toString(),
        circuits,
        org: (did) => {
          const o = agg.registry.get(did);
          return o && { publicKey: Uint8Array.from(Buffer.from(o.publicKey, 'hex')), active: o.status === 'active' };
        },
        schedule: async (dir, fromSequence) => {
          await agg.keys.scheduleDir(dir, fromSequence, agg.builtThrough);
        },
        latestSequence: () => agg.builtThrough,
        log: agg.logger,
      });
      agg.commitments = await CommitmentChecker.start((reason) => agg.logger({ msg: 'native Poseidon unavailable; commitments are checked with WebAssembly', reason }));
      if (opts.startProvers !== false) await agg.startProvers();
    } catch (e) {
      await agg.close();
      throw e;
    }
    return agg;
  }

  private async startProvers(): Promise<void> {
    // Build the native multiexponentiation once here, not in both children at once.
    await loadAddon('msm-bn254');
    this.proversEnabled = true;
    const next = this.proversFor(this.keys.at(this.sequence + 1));
    await Promise.all([...next.batch.map((b) => b.start()), next.threshold.start()]);
    if (this.latest && this.latest.body.keySetHash !== this.keys.at(this.sequence + 1).hash) await this.proversFor(this.keys.at(this.sequence)).threshold.start();
    const reason = next.batch[0]!.status().msmFallback ?? next.threshold.status().msmFallback;
    if (reason) this.logger({ level: 'warn', msg: 'native multiexponentiation unavailable; proofs use WebAssembly only', reason });
  }

  /**
   * The provers of a key set (started on first use, restarted when they die): one for
   * batches, one for presentations, so that a presentation never waits for a batch proof.
   */
  private proversFor(set: KeySet): { batch: Prover[]; threshold: Prover } {
    let p = this.provers.get(set.hash);
    if (!p) {
      if (!this.proversEnabled) throw new ZkTrustError('unavailable', 'the provers are not running');
      const make = (circuit: string, publicNames: readonly string[], maxQueue: number, k = 0) => {
        const name = `${circuit}/${set.hash.slice(0, 12)}${k > 0 ? `#${k + 1}` : ''}`;
        return this.proverFactory({
          name,
          keySetHash: set.hash,
          circuits: [{ circuit, wasmPath: this.keys.wasmPath(circuit), zkeyPath: set.zkeyPaths[circuit]!, publicNames }],
          maxQueue,
          onRestart: (reason) => {
            this.logger({ level: 'error', msg: 'prover died; restarting', prover: name, reason });
            this.telemetry?.proverRestarts.inc({ prover: circuit });
          },
          onQueue: (depth) => this.telemetry?.proverQueue.set({ prover: circuit }, depth),
        });
      };
      // The sequencer proves one batch at a time; presentations queue up to a bound (503 beyond).
      p = {
        // A batch proving, one built ahead, and a retry.
        batch: Array.from({ length: this.batchProverCount }, (_, k) => make('batch-update', BATCH_PUBLIC_SIGNALS, 3, k)),
        threshold: make('threshold', THRESHOLD_PUBLIC_SIGNALS, this.config.maxQueuedPresentations),
      };
      this.provers.set(set.hash, p);
    }
    return p;
  }

  /** Stops the provers of key sets that no batch or presentation will use again. */
  private async retireProvers(): Promise<void> {
    const keep = new Set([this.keys.at(this.sequence + 1).hash, ...(this.latest ? [this.latest.body.keySetHash] : []), ...this.inflight.map((b) => b.keySetHash)]);
    for (const [hash, p] of this.provers) {
      if (keep.has(hash)) continue;
      this.provers.delete(hash);
      await Promise.all([...p.batch.map((b) => b.close()), p.threshold.close()]);
    }
  }

  /** Every prover's state (readiness, tests). */
  proverStatus(): ProverStatus[] {
    return [...this.provers.values()].flatMap((p) => [...p.batch.map((b) => b.status()), p.threshold.status()]);
  }

  private signed<T>(type: string, body: T): Signed<T> {
    return { body, signer: this.did, signature: hex(this.signer(signingBytes(type, body))) };
  }

  // A strict node:crypto verifier per registered organisation key (src/engines/fast-ed25519.ts).
  private orgVerifier(org: OrgRecord): (signature: Uint8Array, message: Uint8Array) => boolean {
    let v = this.orgVerifiers.get(org.did);
    if (!v) {
      v = verifierFor(Uint8Array.from(Buffer.from(org.publicKey, 'hex')));
      this.orgVerifiers.set(org.did, v);
    }
    return v;
  }

  // ---- recovery ----

  private async recover(): Promise<void> {
    const t0 = performance.now();
    for await (const [, o] of this.store.range<OrgRecord>('orgs')) this.registry.set(o.did, o);
    this.ledger = await Ledger.open(this.store);
    await this.restoreSnapshot();
    let replayed = 0;
    for await (const [, b] of this.store.range<StoredBatch>('batches', { gt: numKey(this.sequence) })) {
      if (b.fromIndex !== this.proven) throw new ZkTrustError('internal', `stored batch ${b.sequence} does not start at ${this.proven}`);
      if (b.checkpoint.body.keySetHash !== this.keys.at(b.sequence).hash) throw new ZkTrustError('internal', `checkpoint ${b.sequence} names another key set than the schedule`);
      const applied = await this.appliedEntries(b.fromIndex, b.toIndex);
      buildBatch(this.committed, applied, this.slots, this.policyHash, BigInt(b.publicSignals[BATCH_PUBLIC_SIGNALS.indexOf('maxEpoch')]!));
      if (BigInt(b.checkpoint.body.stateRoot) !== this.committed.root) throw new ZkTrustError('internal', `replayed state does not reach checkpoint ${b.sequence}`);
      this.proven = b.toIndex;
      this.sequence = b.sequence;
      this.latest = b.checkpoint;
      replayed += applied.length;
    }
    // The projection for ingestion's checks: the proven state's, plus every entry not yet proven.
    for (const { agent, orgIndex, nextEpoch } of this.committed.orgEpochs()) this.projected.seed(agent, orgIndex, nextEpoch);
    this.projected.add((await this.appliedEntries(this.proven, this.ledger.size)).map((e) => ({ agent: e.record.agent, orgIndex: e.orgIndex, epoch: e.record.epoch })));
    // The working state starts as a copy of the committed one (replaying twice would double the cost).
    this.working = this.committed.clone();
    this.recovered = true;
    this.logger({
      msg: 'recovered', entries: this.ledger.size, proven: this.proven, checkpoint: this.sequence, fromSnapshot: this.snapshotSequence || undefined,
      replayedRecords: replayed, ms: Math.round(performance.now() - t0),
    });
  }

  // The newest snapshot that matches its signed checkpoint becomes the committed state.
  private async restoreSnapshot(): Promise<void> {
    for (const seq of await this.snapshots.list()) {
      try {
        const b = await this.store.get<StoredBatch>('batches', numKey(seq));
        if (!b) throw new Error('no stored batch has its sequence');
        const state = AgentState.fromSnapshot({ agentDepth: this.config.agentDepth, orgDepth: this.config.orgDepth }, await this.snapshots.read(seq));
        const cp = b.checkpoint.body;
        if (state.root !== BigInt(cp.stateRoot) || state.chain !== BigInt(cp.chain) || state.applied !== b.toIndex) throw new Error('it does not match its checkpoint');
        this.committed = state;
        this.proven = b.toIndex;
        this.sequence = seq;
        this.latest = b.checkpoint;
        this.snapshotSequence = seq;
        return;
      } catch (e) {
        this.logger({ msg: 'state snapshot skipped', sequence: seq, reason: (e as Error).message });
      }
    }
  }

  /** Writes a snapshot of the committed state (serialised now, written in the background). */
  private snapshotCommitted(): void {
    if (this.snapshotWrite || this.sequence === this.snapshotSequence) return;
    const sequence = this.sequence;
    const bytes = this.committed.toSnapshot();
    this.snapshotWrite = this.snapshots
      .write(sequence, bytes)
      .then(() => {
        this.snapshotSequence = sequence;
      })
      .catch((e) => this.logger({ msg: 'state snapshot failed', sequence, error: (e as Error).message }))
      .finally(() => {
        this.snapshotWrite = undefined;
      });
  }

  private async appliedEntries(from: number, to: number): Promise<AppliedEntry[]> {
    return (await this.ledger.openings(from, to)).map(({ entry, opening }) => ({ record: this.recordOf(entry.org, opening), orgIndex: entry.orgIndex }));
  }

  /** The batch circuit's slots. */
  private get slots(): BatchSlots {
    return { insertSlots: this.config.insertSlots, updateSlots: this.config.updateSlots };
  }

  /** Refuses a submission that would put a new agent into a full tree. */
  private checkTreeRoom(inserts: number): void {
    if (this.projected.agents + inserts > 4 ** this.config.agentDepth - 1) throw new ZkTrustError('conflict', 'the agent state tree is full');
  }

  /**
   * Backpressure: a receipt promises a proven batch by its deadline, so refuse records that
   * the prover could not reach in time. A batch takes entries in log order until the next one
   * would be one new agent or one update too many, so every batch but the last fills its
   * insert slots or its update slots: i new agents and u updates need at most
   * floor(i / insertSlots) + floor(u / updateSlots) + 1 batches. They are counted at the
   * measured time per batch (the configured estimate until one is measured), with a 20%
   * margin. `ahead`: records accepted earlier in the same group commit (their inserts are
   * already in the projection).
   * @throws ZkTrustError payload_too_large for a submission larger than the capacity itself
   *   (it could never be accepted), unavailable (retry later) when the backlog is too long.
   */
  private checkCapacity(count: number, inserts: number, ahead = 0): void {
    const { insertSlots, updateSlots } = this.config;
    const msPerBatch = this.metrics.batchesProven > 0 ? this.metrics.batchProveMs / this.metrics.batchesProven : this.config.expectedMsPerRecord * (insertSlots + updateSlots);
    const available = Math.floor((0.8 * this.config.receiptDeadlineMs) / Math.max(1, msPerBatch));
    const batches = (n: number, i: number) => Math.floor(i / insertSlots) + Math.floor((n - i) / updateSlots) + 1;
    if (batches(count, inserts) > available) throw new ZkTrustError('payload_too_large', `at most ${available} batches can be proven before the receipt deadline; split the submission`);
    const pending = this.pending + ahead;
    if (batches(pending + count, this.projected.pendingInserts + inserts) > available) {
      throw new ZkTrustError('unavailable', `the prover cannot reach more records before the receipt deadline (${pending} pending); retry later`);
    }
  }

  private recordOf(org: string, o: StoredOpening): OutcomeRecord {
    return {
      agent: identityOfDid(o.agent),
      org: identityOfDid(org),
      epoch: BigInt(o.epoch),
      kept: BigInt(o.kept),
      broken: BigInt(o.broken),
      violations: BigInt(o.violations),
      scope: BigInt(o.scope),
      salt: BigInt(o.salt),
    };
  }

  // ---- registry ----

  /**
   * Registers an organisation by its Ed25519 public key (hex) or did:key.
   * @throws ZkTrustError out_of_range for a malformed or small-order key, conflict if known.
   */
  async registerOrg(input: unknown): Promise<OrgRecord> {
    const body = parseOrThrow(RegisterOrgBody, input, 'body');
    const name = body.name;
    let pk: Uint8Array;
    try {
      pk = body.did !== undefined ? publicKeyFromDid(body.did) : Uint8Array.from(Buffer.from(body.publicKey!, 'hex'));
      assertValidPublicKey(pk);
    } catch (e) {
      if (e instanceof ZkTrustError) throw e;
      throw new ZkTrustError('out_of_range', `unusable organisation key: ${(e as Error).message}`);
    }
    const did = didFromPublicKey(pk);
    return this.appendLock.run(async () => {
      if (this.registry.has(did)) throw new ZkTrustError('conflict', 'organisation already registered');
      const count = this.registry.size;
      if (count >= 4 ** this.config.orgDepth) throw new ZkTrustError('conflict', 'the organisation registry is full');
      const org: OrgRecord = { did, publicKey: hex(pk), index: count, name, status: 'active', registeredAt: Date.now() };
      await this.store.write([{ type: 'put', sub: 'orgs', key: did, value: org }]);
      this.registry.set(did, org);
      return org;
    });
  }

  /**
   * Suspends (or reactivates) an organisation: its later submissions are refused, including
   * those already checked but not yet appended.
   */
  async setOrgStatus(did: string, status: 'active' | 'suspended'): Promise<OrgRecord> {
    return this.appendLock.run(async () => {
      const org = this.registry.get(did);
      if (!org) throw new ZkTrustError('not_found', 'unknown organisation');
      const next = { ...org, status };
      await this.store.write([{ type: 'put', sub: 'orgs', key: did, value: next }]);
      this.registry.set(did, next);
      return next;
    });
  }

  /** The public registry: did, index, status (audit checks orgIndex against it). */
  async orgs(): Promise<Array<Pick<OrgRecord, 'did' | 'index' | 'status' | 'name'>>> {
    return [...this.registry.values()].map((o) => ({ did: o.did, index: o.index, status: o.status, name: o.name })).sort((a, b) => a.index - b.index);
  }

  // ---- ingestion ----

  /**
   * Accepts a signed submission of records (see docs/api.md) and returns a signed receipt.
   * Nothing is stored unless every check passes.
   * @throws ZkTrustError with the failing check's code.
   */
  async submit(input: unknown): Promise<Signed<ReceiptBody>> {
    try {
      return await this.submitChecked(input);
    } catch (e) {
      this.metrics.submissionsRejected++;
      this.telemetry?.submissionsRejected.inc({ code: e instanceof ZkTrustError ? e.code : 'internal' });
      throw e;
    }
  }

  private async submitChecked(input: unknown) {
    // 1. Authenticate first: the envelope's shape and the commitments the signature covers,
    //    the organisation, its signature, its rate. Nothing else is computed per record before.
    const env = parseOrThrow(this.envelope, input, 'body');
    const orgDid = env.org;
    const org = this.registry.get(orgDid);
    if (!org) throw new ZkTrustError('unknown_org', 'the organisation is not registered');
    if (org.status !== 'active') throw new ZkTrustError('org_suspended', 'the organisation is suspended');
    const { nonce, timestamp } = env;
    const commitments = env.records.map((r) => r.commitment);
    const signature = Uint8Array.from(Buffer.from(env.signature, 'hex'));
    const signed = signingBytes('submission', { org: orgDid, nonce, timestamp, commitments });
    if (!this.orgVerifier(org)(signature, signed)) {
      throw new ZkTrustError('invalid_signature', 'the submission signature does not verify under the organisation key');
    }
    // A replayed genuine submission carries a valid signature: refused before it can spend
    // the organisation's rate budget (a replay must never lock its organisation out).
    const now = Date.now();
    if (Math.abs(now - timestamp * 1000) > this.config.timestampWindowMs) throw new ZkTrustError('stale_timestamp', 'timestamp is outside the accepted window');
    if (this.ledger.nonceUsed(orgDid, nonce)) throw new ZkTrustError('replayed_nonce', 'this nonce was already used by the organisation');
    await this.limits?.take('org', orgDid);
    // 2. Each record in full, now that a registered organisation has signed them.
    const openings: StoredOpening[] = new Array(env.records.length);
    const checked: CheckedRecord[] = new Array(env.records.length);
    for (let i = 0; i < env.records.length; i++) {
      const o = parseOrThrow(RecordSchema, env.records[i], `records[${i}]`);
      let agentField: bigint;
      try {
        agentField = identityOfDid(o.agent);
      } catch {
        throw new ZkTrustError('out_of_range', `records[${i}].agent is not an Ed25519 did:key`);
      }
      const { commitment, ...opening } = o;
      openings[i] = opening;
      checked[i] = { ...opening, commitment: BigInt(commitment), agent: agentField, salt: BigInt(o.salt) };
    }
    const orgField = identityOfDid(orgDid);
    const bad = await this.commitments!.firstMismatch(orgField, checked);
    if (bad >= 0) throw new ZkTrustError('commitment_mismatch', `records[${bad}].commitment is not the commitment of its opening`);
    const parsed: OutcomeRecord[] = checked.map((r) => ({
      agent: r.agent, org: orgField, epoch: BigInt(r.epoch), kept: BigInt(r.kept), broken: BigInt(r.broken), violations: BigInt(r.violations), scope: BigInt(r.scope), salt: r.salt,
    }));
    // Policy v2 (invariant 9): what the batch circuit refuses is refused before a receipt.
    const maxEpoch = BigInt(maxEpochAt(now, this.policy));
    parsed.forEach((r, i) => {
      if (!withinRecordCap(r, this.policy)) throw new ZkTrustError('record_over_cap', `records[${i}]: kept + broken + ${this.policy.violationWeight} * violations exceeds the record cap ${this.policy.recordCap}`);
      if (r.epoch > maxEpoch) throw new ZkTrustError('future_epoch', `records[${i}]: epoch ${r.epoch} is after ${maxEpoch}, the current day plus the allowed skew`);
    });
    const record: SubmissionRecord = { org: orgDid, nonce, timestamp, commitments, signature: env.signature, firstIndex: -1, orgIndex: org.index, acceptedAt: now };
    return new Promise<Signed<ReceiptBody>>((resolve, reject) => {
      this.appendQueue.push({ record, openings, parsed, resolve, reject });
      if (!this.appending) void this.flushAppends();
    });
  }

  /**
   * Group commit: the submissions that finished their checks while the previous write was
   * syncing are appended together, in arrival order, in one synced LevelDB batch. Each is
   * checked on its own first (nonce, epochs, tree room, capacity), after every submission
   * before it, so one refused submission never
   * fails another; if the write fails, every submission of the group fails and nothing of
   * it is kept.
   */
  private async flushAppends(): Promise<void> {
    this.appending = true;
    try {
      while (this.appendQueue.length > 0) {
        const queued = this.appendQueue.splice(0, this.appendQueue.length);
        const group: PendingAppend[] = [];
        const ops: Op[] = [];
        const nonces = new Set<string>();
        const undo: ProjectionUndo[] = [];
        let next = this.ledger.size;
        let added = 0;
        for (const p of queued) {
          try {
            const id = submissionId(p.record.org, p.record.nonce);
            if (this.registry.get(p.record.org)?.status !== 'active') throw new ZkTrustError('org_suspended', 'the organisation is suspended');
            if (nonces.has(id) || this.ledger.nonceUsed(p.record.org, p.record.nonce)) throw new ZkTrustError('replayed_nonce', 'this nonce was already used by the organisation');
            const projected = p.parsed.map((r) => ({ agent: r.agent, orgIndex: p.record.orgIndex, epoch: r.epoch }));
            const { inserts } = this.projected.check(projected);
            this.checkTreeRoom(inserts);
            this.checkCapacity(p.parsed.length, inserts, added);
            undo.push(this.projected.add(projected));
            nonces.add(id);
            p.record.firstIndex = next;
            next += p.record.commitments.length;
            added += p.record.commitments.length;
            ops.push(...this.ledger.appendOps(p.record, p.openings));
            group.push(p);
          } catch (e) {
            p.reject(e);
          }
        }
        if (group.length === 0) continue;
        try {
          const t0 = performance.now();
          await this.store.write(ops);
          this.telemetry?.logWriteDuration.observe((performance.now() - t0) / 1000);
          this.storeHealthy = true;
        } catch (e) {
          this.storeHealthy = false;
          for (const u of undo.reverse()) this.projected.undo(u);
          // The store's own message stays in the log: it is nobody's business outside.
          this.logger({ level: 'error', msg: 'the log could not be written', error: (e as Error).message, submissions: group.length });
          for (const p of group) p.reject(new ZkTrustError('unavailable', 'the log could not be written; retry later', { retryAfterS: 5 }));
          continue;
        }
        for (const p of group) this.ledger.added(p.record);
        this.metrics.recordsAccepted += added;
        this.metrics.logWrites++;
        this.telemetry?.recordsAccepted.inc(added);
        this.telemetry?.logWrites.inc();
        this.wake?.();
        const treeHead = this.treeHeadBody();
        for (const p of group) {
          const r = p.record;
          p.resolve(this.signed<ReceiptBody>('receipt', { org: r.org, firstIndex: r.firstIndex, count: r.commitments.length, treeHead, deadline: r.acceptedAt + this.config.receiptDeadlineMs }));
        }
      }
    } finally {
      this.appending = false;
    }
  }

  // ---- log reads ----

  private treeHeadBody(): TreeHeadBody {
    return { size: this.ledger.size, root: hex(this.ledger.log.root()), timestamp: Date.now() };
  }

  /** The signed tree head of the whole log. */
  treeHead(): Signed<TreeHeadBody> {
    return this.signed('tree-head', this.treeHeadBody());
  }

  /** Public log entries [start, end): commitment, org, orgIndex, submission id (never openings). */
  logEntries(start: number, end: number): LogEntry[] {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > this.ledger.size) throw new ZkTrustError('out_of_range', 'invalid entry range');
    if (end - start > 1000) throw new ZkTrustError('out_of_range', 'at most 1000 entries per request');
    const out: LogEntry[] = [];
    for (let i = start; i < end; i++) {
      const { acceptedAt: _a, ...e } = this.ledger.entry(i);
      out.push(e);
    }
    return out;
  }

  /** The signed submission (org signature included) an entry came from. */
  async submission(id: string): Promise<unknown> {
    const s = await this.ledger.submission(id);
    if (!s) throw new ZkTrustError('not_found', 'no such submission');
    return s;
  }

  inclusionProof(index: number, size: number): { index: number; size: number; leafHash: string; path: string[] } {
    try {
      return { index, size, leafHash: hex(this.ledger.log.leaf(index)), path: this.ledger.log.inclusionProof(index, size).map(hex) };
    } catch (e) {
      throw new ZkTrustError('out_of_range', (e as Error).message);
    }
  }

  consistencyProof(first: number, second: number): { first: number; second: number; proof: string[] } {
    try {
      return { first, second, proof: this.ledger.log.consistencyProof(first, second).map(hex) };
    } catch (e) {
      throw new ZkTrustError('out_of_range', (e as Error).message);
    }
  }

  // ---- batches and checkpoints ----

  latestCheckpoint(): Signed<CheckpointBody> | undefined {
    return this.latest;
  }

  /** The latest checkpoint. @throws ZkTrustError not_found before the first. */
  latestCheckpointOrThrow(): Signed<CheckpointBody> {
    if (!this.latest) throw new ZkTrustError('not_found', 'no checkpoint yet');
    return this.latest;
  }

  async batch(sequence: number): Promise<StoredBatch> {
    const b = await this.store.get<StoredBatch>('batches', numKey(sequence));
    if (!b) throw new ZkTrustError('not_found', 'no such batch');
    return b;
  }

  /** What the state's Poseidon runs on: `native, asm`, `native, portable` or `typescript`. */
  stateHashing = 'typescript';

  /** Which Poseidon checks commitments at ingestion: 'native, asm' or 'native, portable' (the
   * addon and its field arithmetic), or 'wasm' (the WebAssembly fallback). */
  get commitmentEngine(): string {
    return this.commitments?.description ?? 'none';
  }

  /** Entries accepted but not yet in a proven batch. */
  get pending(): number {
    return this.ledger.size - this.proven;
  }

  /** Seconds since the oldest entry not yet in a proven batch was accepted (0 if none). */
  oldestPendingS(): number {
    return this.proven < this.ledger.size ? Math.max(0, (Date.now() - this.ledger.entry(this.proven).acceptedAt) / 1000) : 0;
  }

  /** Whether the sequencer loop runs. */
  get sequencing(): boolean {
    return this.running;
  }

  /** Starts the sequencer: closes batches by size or age and proves them in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.sequencerLoop();
  }

  /** Stops the sequencer after the batch in flight, if any; ingestion goes on. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop?.catch(() => undefined);
  }

  /** How many batch provers the sequencer keeps (ZKTRUST_BATCH_PROVERS; one queue in front of workers). */
  private get batchProverCount(): number {
    return Math.max(1, Math.floor(this.config.batchProvers ?? 1));
  }

  /**
   * How many batches may be in flight: one per proof the batch provers make at once (a queue
   * counts its live workers), and one more built ahead.
   */
  private get pipelineDepth(): number {
    const batch = this.provers.get(this.keys.at(this.sequence + 1).hash)?.batch;
    const proving = batch ? batch.reduce((n, p) => n + (p.capacity?.() ?? 1), 0) : this.batchProverCount;
    return Math.max(1, proving) + 1;
  }

  /**
   * The sequencer, pipelined: a batch's witness depends only on the state after the batch
   * before it, not on that batch's proof, so batches are built ahead on the working state (one
   * per batch prover, and one more waiting) and proven at once; checkpoints are signed
   * strictly in sequence order, each only for a proof that verifies. A failed proof is retried
   * with the same input (the batches after it stay valid); a failure to build resets the
   * working state to the committed one and drops what was in flight.
   */
  private async sequencerLoop(): Promise<void> {
    while (this.running) {
      try {
        while (this.inflight.length < this.pipelineDepth && this.batchDue()) await this.buildNextBatch();
      } catch (e) {
        if (!this.running) return;
        this.logger({ level: 'warn', msg: 'batch could not be built; rebuilding from the proven state', error: (e as Error).message, from: this.proven });
        this.telemetry?.batchFailures.inc();
        this.inflight = [];
        await new Promise((r) => setTimeout(r, 1000));
        await this.resetWorking();
        continue;
      }
      const head = this.inflight[0];
      // Wait for the head's proof, or for the next batch to fall due (then build it too).
      const waitMs = this.nextDueInMs();
      const woke = await new Promise<'proof' | 'wake'>((res) => {
        const t = setTimeout(() => res('wake'), waitMs);
        this.wake = () => {
          clearTimeout(t);
          res('wake');
        };
        void head?.settled.then(() => {
          clearTimeout(t);
          res('proof');
        });
      });
      this.wake = undefined;
      if (woke === 'wake' || !head || !this.running) continue;
      try {
        await this.commitBatch(head, await head.result);
      } catch (e) {
        if (!this.running) return;
        this.logger({ level: 'warn', msg: 'batch proof failed; retrying', error: (e as Error).message, from: head.from, sequence: head.sequence });
        this.telemetry?.batchFailures.inc();
        await new Promise((r) => setTimeout(r, 1000));
        if (!this.running) return;
        if (e instanceof StoreWriteFailed) continue; // the proof holds: only the write is retried
        if (e instanceof PipelineOutOfStep) {
          // The built batches no longer follow the committed state: build them again.
          this.inflight = [];
          await this.resetWorking();
          continue;
        }
        this.startProof(head);
      }
    }
  }

  /** The last sequence a built batch will take: key sets may be scheduled only after it. */
  get builtThrough(): number {
    return this.sequence + this.inflight.length;
  }

  /** The first log entry no built batch holds, and the inserts among the entries before it. */
  private get builtTo(): number {
    return this.inflight.at(-1)?.to ?? this.proven;
  }

  /** Whether the entries no batch holds yet make a batch: full, or the oldest has waited long enough. */
  private batchDue(): boolean {
    const unbuilt = this.ledger.size - this.builtTo;
    if (unbuilt <= 0) return false;
    const inserts = this.projected.pendingInserts - this.inflight.reduce((n, b) => n + b.inserts, 0);
    const full = unbuilt >= this.config.insertSlots + this.config.updateSlots || inserts > this.config.insertSlots || unbuilt - inserts > this.config.updateSlots;
    return full || Date.now() - this.ledger.entry(this.builtTo).acceptedAt >= this.config.batchMaxWaitMs;
  }

  private nextDueInMs(): number {
    if (this.ledger.size <= this.builtTo || this.inflight.length >= this.pipelineDepth) return 1000;
    return Math.max(10, this.ledger.entry(this.builtTo).acceptedAt + this.config.batchMaxWaitMs - Date.now());
  }

  private async resetWorking(): Promise<void> {
    this.working = this.committed.clone();
  }

  /** Builds the next batch on the working state and starts proving it. */
  private async buildNextBatch(): Promise<void> {
    const from = this.builtTo;
    const next = await this.appliedEntries(from, Math.min(this.ledger.size, from + this.config.insertSlots + this.config.updateSlots));
    const applied = next.slice(0, fitBatch(this.working, next, this.slots));
    // The checkpoint is signed after the proof, so its day is at least this one (audit).
    const maxEpoch = BigInt(maxEpochAt(Date.now(), this.policy));
    const input = buildBatch(this.working, applied, this.slots, this.policyHash, maxEpoch);
    const batch: InFlightBatch = {
      sequence: this.sequence + this.inflight.length + 1, from, to: from + applied.length, applied, input, maxEpoch, inserts: input.inserts,
      t0: performance.now(), keySetHash: '', result: NOT_STARTED, settled: NOT_STARTED,
    };
    this.inflight.push(batch);
    this.startProof(batch);
  }

  /** (Re)starts the proof of a built batch under the key set its sequence is scheduled for. */
  private startProof(b: InFlightBatch): void {
    let prover: Prover;
    try {
      const keySet = this.keys.at(b.sequence);
      b.keySetHash = keySet.hash;
      const provers = this.proversFor(keySet).batch;
      prover = provers[b.sequence % provers.length]!;
    } catch (e) {
      b.result = Promise.resolve({ error: e as Error });
      b.settled = b.result;
      return;
    }
    const tp = performance.now();
    b.result = prover.prove('batch-update', b.input.input, { sequence: b.sequence }).then(
      (r) => {
        this.telemetry?.proveDuration.observe({ circuit: 'batch-update' }, (performance.now() - tp) / 1000);
        return { proof: r };
      },
      (e: unknown) => ({ error: e instanceof Error ? e : new Error(String(e)) }),
    );
    b.settled = b.result;
  }

  /** Signs, stores and applies the head batch, if its proof is exactly what was asked and verifies. */
  private async commitBatch(b: InFlightBatch, result: { proof?: ProofResult<string>; error?: Error }): Promise<void> {
    if (!result.proof) throw result.error ?? new Error('no proof');
    const { proof, publicSignals } = result.proof;
    const { sequence, from, to, input } = b;
    if (sequence !== this.sequence + 1 || from !== this.proven) throw new PipelineOutOfStep('the batch is not the next one');
    const keySet = this.keys.byHash(b.keySetHash);
    if (!keySet) throw new Error('the batch was proven under an unknown key set');
    // The prover's answer is trusted for nothing: its public signals must be exactly the
    // transition asked for (from the committed state), and the proof must verify below.
    if (input.public.oldRoot !== this.committed.root) throw new PipelineOutOfStep('the batch does not start from the committed state');
    if (!sameStatement(BATCH_PUBLIC_SIGNALS, input.public, publicSignals)) throw new Error('the batch proof is not of the transition asked for');
    const named = input.public;
    // Sign only what verifies under the key set the checkpoint names, and only if that key
    // set is still the one in force (a rotation may have been scheduled meanwhile).
    if (!(await verifyGroth16(keySet.verificationKeys['batch-update']!, publicSignals, proof as never).catch(() => false))) throw new Error('the batch proof does not verify');
    if (this.keys.at(sequence).hash !== keySet.hash) throw new Error('the key set changed while the batch was proven');
    const checkpoint = this.signed<CheckpointBody>('checkpoint', {
      sequence,
      config: this.config.circuits,
      stateRoot: named.newRoot!.toString(),
      chain: named.newChain!.toString(),
      logSize: to,
      policyHash: this.policyHash.toString(),
      time: Date.now(),
      keySetHash: keySet.hash,
      keyMode: keySet.descriptor.mode,
    });
    const stored: StoredBatch = { sequence, fromIndex: from, toIndex: to, proof, publicSignals, checkpoint };
    try {
      await this.store.write([{ type: 'put', sub: 'batches', key: numKey(sequence), value: stored }]);
      this.storeHealthy = true;
    } catch (e) {
      this.storeHealthy = false;
      throw new StoreWriteFailed(`the checkpoint could not be written: ${(e as Error).message}`);
    }
    buildBatch(this.committed, b.applied, this.slots, this.policyHash, b.maxEpoch);
    this.projected.pendingInserts -= b.inserts;
    this.proven = to;
    this.sequence = sequence;
    this.inflight.shift();
    const rotated = this.latest?.body.keySetHash !== checkpoint.body.keySetHash;
    this.latest = checkpoint;
    this.presentationCache.clear();
    // What follows a stored checkpoint never undoes it: a failure is logged, not retried.
    if (rotated) await this.retireProvers().catch((e: Error) => this.logger({ level: 'error', msg: 'retiring old provers failed', error: e.message }));
    if (this.config.snapshotEveryBatches > 0 && sequence - this.snapshotSequence >= this.config.snapshotEveryBatches) this.snapshotCommitted();
    this.metrics.batchesProven++;
    // The pace of the pipeline, for backpressure: from the previous commit (or this batch's
    // build, if the provers were idle meanwhile) to this one.
    const now = performance.now();
    this.metrics.batchProveMs += now - Math.max(b.t0, this.lastCommitAt);
    this.lastCommitAt = now;
    this.telemetry?.batchesProven.inc();
    if (to > from) this.telemetry?.batchLag.observe((checkpoint.body.time - this.ledger.entry(from).acceptedAt) / 1000);
  }

  /** Resolves once every entry accepted so far is in a proven batch (for tests and tools). */
  async drain(timeoutMs = 120_000): Promise<void> {
    const target = this.ledger.size;
    const t0 = Date.now();
    while (this.proven < target) {
      if (Date.now() - t0 > timeoutMs) throw new ZkTrustError('unavailable', 'timed out waiting for batches');
      this.wake?.();
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // ---- agents ----

  /**
   * A fresh challenge for an agent to sign into its next request (proof of control). Stateless:
   * expiry and 16 random bytes, and an HMAC of them and the agent under a key of this process,
   * so that asking for challenges stores nothing (nobody can exhaust an agent's challenges).
   */
  challenge(input: unknown): { agent: string; challenge: string; expires: number } {
    const { agent } = parseOrThrow(ChallengeBody, input, 'body');
    try {
      publicKeyFromDid(agent);
    } catch {
      throw new ZkTrustError('out_of_range', 'agent is not an Ed25519 did:key');
    }
    const expires = Date.now() + this.config.challengeTtlMs;
    const payload = Buffer.concat([bigEndian64(expires), randomBytes(16)]);
    return { agent, challenge: Buffer.concat([payload, this.challengeMac(agent, payload)]).toString('hex'), expires };
  }

  private challengeMac(agent: string, payload: Uint8Array): Buffer {
    return createHmac('sha256', this.challengeKey).update('zktrust/v1/challenge\n').update(agent).update(payload).digest().subarray(0, 16);
  }

  /** Whether `challenge` was issued to `agent` by this process, has not expired and was not answered. */
  private challengeValid(agent: string, challenge: string): boolean {
    const bytes = Buffer.from(challenge, 'hex');
    if (bytes.length !== 40) return false;
    const mac = this.challengeMac(agent, bytes.subarray(0, 24));
    if (!timingSafeEqual(mac, bytes.subarray(24))) return false;
    return Number(bytes.readBigUInt64BE(0)) >= Date.now() && !this.usedChallenges.has(challenge);
  }

  /**
   * A threshold presentation for the agent that signed the request (docs/api.md), bound to the
   * verifier's context by its hash alone: the aggregator never sees the verifier's nonce or
   * audience. The agent adds them to what it forwards.
   * @throws ZkTrustError: invalid_signature / forbidden for a request not signed by the
   *   agent or with an unknown, expired or reused challenge; rate_limited beyond the agent's
   *   rate; not_found before the agent's first proven record; predicate_false when the
   *   statement does not hold; unavailable when the prover's queue is full.
   */
  async presentThreshold(input: unknown): Promise<ProofResponse> {
    const body = parseOrThrow(ThresholdRequestBody, input, 'body');
    const { agent, minScore, challenge } = body;
    const minRecords = body.minRecords ?? 0;
    const minOrgs = body.minOrgs ?? 0;
    const context = { hash: body.context.hash, expiry: body.context.expiry };
    let pk: Uint8Array;
    try {
      pk = publicKeyFromDid(agent);
    } catch {
      throw new ZkTrustError('out_of_range', 'agent is not an Ed25519 did:key');
    }
    const request = { agent, minScore, minRecords, minOrgs, context, challenge };
    if (!verifyStrict(Uint8Array.from(Buffer.from(body.signature, 'hex')), signingBytes('threshold-request', request), pk)) throw new ZkTrustError('invalid_signature', 'the request is not signed by the agent');
    if (!this.challengeValid(agent, challenge)) throw new ZkTrustError('forbidden', 'unknown, expired, used or foreign challenge');
    this.usedChallenges.set(challenge, true, { ttl: this.config.challengeTtlMs });
    await this.limits?.take('agent', agent);
    const nowS = Math.floor(Date.now() / 1000);
    if (context.expiry <= nowS || context.expiry > nowS + this.config.maxContextLifetimeS) throw new ZkTrustError('out_of_range', 'context.expiry must be in the future and within the allowed lifetime');
    if (!this.latest) throw new ZkTrustError('not_found', 'no proven state yet');
    const agentField = identityField(pk);
    const found = this.committed.lookup(agentField);
    if (!found) throw new ZkTrustError('not_found', 'the agent has no proven record yet');
    const { summary } = found.leaf;
    if (!meetsEvidenceThreshold(summary, BigInt(minScore), this.policy) || summary.records < BigInt(minRecords) || summary.orgCount < BigInt(minOrgs)) {
      throw new ZkTrustError('predicate_false', 'the requested statement does not hold for this agent');
    }
    const ctxHash = BigInt(context.hash);
    const key = canonicalJson({ agent, minScore, minRecords, minOrgs, ctx: context.hash, expiry: context.expiry, seq: this.latest.body.sequence });
    const hit = this.presentationCache.get(key);
    if (hit) {
      this.metrics.presentationCacheHits++;
      this.telemetry?.presentations.inc({ source: 'cache' });
      return hit;
    }
    const checkpoint = this.latest;
    const keySet = this.keys.byHash(checkpoint.body.keySetHash);
    if (!keySet) throw new ZkTrustError('internal', 'the latest checkpoint names an unknown key set');
    if (keySet.descriptor.mode === 'dev' && !this.config.insecureDevKeys) {
      // Never serve forgeable proofs: wait for the first checkpoint under this service's own keys.
      throw new ZkTrustError('unavailable', 'the latest checkpoint is under development keys; presentations resume after the next batch');
    }
    const { input: circuitInput, public: expected } = buildThresholdInput(
      this.committed,
      { agent: agentField, minScore: BigInt(minScore), minRecords: BigInt(minRecords), minOrgs: BigInt(minOrgs), contextHash: ctxHash },
      this.policyHash,
    );
    const tp = performance.now();
    const { proof, publicSignals } = await this.proversFor(keySet).threshold.prove('threshold', circuitInput);
    this.telemetry?.proveDuration.observe({ circuit: 'threshold' }, (performance.now() - tp) / 1000);
    // A prover's answer is checked as a verifier would, before anyone sees it: the statement
    // asked, under the key set the checkpoint names.
    if (!sameStatement(THRESHOLD_PUBLIC_SIGNALS, expected, publicSignals) || !(await verifyGroth16(keySet.verificationKeys.threshold!, publicSignals, proof as never).catch(() => false))) {
      this.logger({ level: 'error', msg: 'a prover returned a presentation proof that does not verify', prover: 'threshold' });
      throw new ZkTrustError('unavailable', 'the presentation could not be proven; retry later', { retryAfterS: 2 });
    }
    const presentation: ProofResponse = {
      version: 2, circuit: 'threshold', config: this.config.circuits, agent, proof, publicSignals, context, checkpoint,
      keySet: keySet.descriptor, verificationKey: keySet.verificationKeys.threshold!,
    };
    this.presentationCache.set(key, presentation);
    this.metrics.presentations++;
    this.telemetry?.presentations.inc({ source: 'proven' });
    return presentation;
  }

  // ---- keys ----

  /** The genesis root of the state (audit starts from it). */
  genesisRoot(): string {
    // Hundreds of Poseidon hashes: once, not per /v1/health.
    this.genesis ??= genesisRoot({ agentDepth: this.config.agentDepth, orgDepth: this.config.orgDepth }).toString();
    return this.genesis;
  }
  private genesis?: string;

  /** The key set the next checkpoint is proven under: its mode and hash (cheap, for health and readiness). */
  currentKeys(): { mode: KeyMode; keySetHash: string } {
    const set = this.keys.at(this.sequence + 1)!;
    return { mode: set.descriptor.mode, keySetHash: set.hash };
  }

  /** Every key set of this deployment with the checkpoint it takes effect from, oldest first. */
  keyHistory(): ScheduledKeySet[] {
    return this.keys.history();
  }

  /**
   * The aggregator's signed document of a key set (by default the one in force for the next
   * batch): its descriptor, verification keys and first checkpoint.
   * @throws ZkTrustError not_found for a key set this aggregator never used.
   */
  keyDocument(hash?: string): KeyView {
    const set = hash === undefined ? this.keys.at(this.sequence + 1) : this.keys.byHash(hash);
    const fromSequence = set && this.keys.fromSequenceOf(set.hash);
    if (!set || fromSequence === undefined) throw new ZkTrustError('not_found', 'no such key set');
    const d = set.descriptor;
    return {
      aggregator: this.did,
      config: d.config,
      genesisRoot: this.genesisRoot(),
      mode: d.mode,
      keySetHash: set.hash,
      forgeableBy: FORGEABLE_BY[d.mode],
      fromSequence,
      phase1: d.phase1,
      policyHash: d.policyHash,
      circuits: Object.fromEntries(Object.entries(d.circuits).map(([name, c]) => [name, { vkey: set.verificationKeys[name]!, vkeyHash: c.vkey, r1cs: c.r1cs, contributions: c.contributions }])),
      history: this.keys.history(),
      document: this.signed<KeyDocumentBody>('key-document', { aggregator: this.did, keySetHash: set.hash, descriptor: d, verificationKeys: set.verificationKeys, fromSequence }),
      ...(set.transcript !== undefined ? { transcript: set.transcript } : {}),
    };
  }

  /** The proving key file of a circuit of a key set (public: provers and auditors use it). */
  provingKeyPath(hash: string, circuit: string): string {
    const path = this.keys.byHash(hash)?.zkeyPaths[circuit];
    if (!path) throw new ZkTrustError('not_found', 'no such key set or circuit');
    return path;
  }

  /** Stops the sequencer and the provers, snapshots the proven state and closes the store. */
  async close(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.proversEnabled = false;
    const provers = [...this.provers.values()];
    this.provers.clear();
    await Promise.all(provers.flatMap((p) => [...p.batch.map((b) => b.close()), p.threshold.close()]));
    await this.commitments?.close();
    await this.loop?.catch(() => undefined);
    await this.ceremony?.close();
    await this.snapshotWrite;
    if (this.config.snapshotEveryBatches > 0 && this.recovered) {
      this.snapshotCommitted();
      await this.snapshotWrite;
    }
    await this.store.close();
  }
}

function bigEndian64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/** Whether `signals` (decimal strings, in circuit order) are exactly the public values `expected`. */
function sameStatement(names: readonly string[], expected: Readonly<Record<string, bigint>>, signals: unknown): boolean {
  return Array.isArray(signals) && signals.length === names.length && names.every((n, i) => typeof signals[i] === 'string' && signals[i] === expected[n]?.toString());
}
