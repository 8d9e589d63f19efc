/**
 * The aggregator, composed of its roles, each with its dependencies named in its constructor:
 *   - the organisation registry (registry.ts): who may submit, at which organisation index;
 *   - ingestion (ingestion.ts): signed submissions into the transparency log, and its reads;
 *   - the sequencer (sequencer.ts): batches proven off the request path, signed checkpoints;
 *   - the presenter (presenter.ts): threshold presentations requested by agents;
 * with the prover pool (prover-pool.ts) behind the Prover interface, the key ring
 * (src/keys/key-ring.ts) and the organisations' ceremony (ceremony.ts). This class opens the
 * data directory, wires the roles, recovers, and is what the HTTP layer (src/api) calls: it
 * only validates transport and maps errors; every rule lives in the roles.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { publicKeyOf } from '../crypto/ed25519.ts';
import { didFromPublicKey } from '../crypto/identity.ts';
import { FORGEABLE_BY, type KeyMode } from '../crypto/key-set.ts';
import { setPoseidonBackend } from '../crypto/poseidon.ts';
import { CIRCUIT_POLICY, policyHash } from '../crypto/score-policy.ts';
import { CommitmentChecker } from '../engines/commitment-check.ts';
import { signerFor } from '../engines/fast-ed25519.ts';
import { loadNativePoseidon } from '../engines/native-poseidon.ts';
import { ZkTrustError } from '../errors.ts';
import { KeyRing, type ScheduledKeySet } from '../keys/key-ring.ts';
import { compiledCircuits } from '../prover/artifacts.ts';
import type { ProverFactory, ProverStatus } from '../prover/prover.ts';
import { localProvers } from '../prover/supervised-prover.ts';
import type { CheckpointBody, CheckpointSummary, KeyDocumentBody, KeyView, ProofResponse, ReceiptBody, Signed, TreeHeadBody } from '../protocol/wire.ts';
import { genesisRoot } from '../state/agent-state.ts';
import { Store } from '../store/db.ts';
import { CeremonyCoordinator } from './ceremony.ts';
import { Ingestion, type IngestionConfig } from './ingestion.ts';
import { Ledger, type LogEntry } from './ledger.ts';
import type { RateLimits } from './limits.ts';
import { Presenter, type PresenterConfig } from './presenter.ts';
import { Projection } from './projection.ts';
import { ProverPool } from './prover-pool.ts';
import { Registry, type OrgRecord, type PublicOrg } from './registry.ts';
import { Sequencer, type SequencerConfig, type StoredBatch } from './sequencer.ts';
import { serviceParts, type ServiceMetrics, type ServiceParts } from './service-parts.ts';
import { SnapshotDir } from './snapshots.ts';
import type { Telemetry } from './telemetry.ts';
export type { CheckpointBody, CheckpointSummary, KeyDocumentBody, KeyView, Presentation, ProofResponse, ReceiptBody, Signed, TreeHeadBody } from '../protocol/wire.ts';
export type { StoredBatch } from './sequencer.ts';

/** The aggregator's settings: its roles' and these. */
export interface AggregatorConfig extends SequencerConfig, IngestionConfig, PresenterConfig {
  /** Presentations queued on the prover at most; more get 503 with Retry-After. */
  maxQueuedPresentations: number;
  /** A key set directory to prove with (ZKTRUST_KEY_SET); otherwise local keys are made on first start. */
  keySetDir?: string;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export class Aggregator {
  readonly config: AggregatorConfig;
  readonly did: string;
  private readonly parts: ServiceParts;
  private readonly policy = CIRCUIT_POLICY;
  private readonly policyHash = policyHash(CIRCUIT_POLICY);
  readonly registry: Registry;
  private keys!: KeyRing;
  private provers!: ProverPool;
  private ledger!: Ledger;
  private ingestion!: Ingestion;
  /** Batches and checkpoints. */
  sequencer!: Sequencer;
  private presenter!: Presenter;
  /** The organisations' ceremony for the next key set (src/service/ceremony.ts). */
  ceremony!: CeremonyCoordinator;
  private commitments?: CommitmentChecker;
  /** What the state's Poseidon runs on: `native, asm`, `native, portable` or `typescript`. */
  stateHashing = 'typescript';

  private constructor(config: AggregatorConfig, store: Store, secretKey: Uint8Array, logger?: (entry: Record<string, unknown>) => void, telemetry?: Telemetry) {
    this.config = config;
    this.did = didFromPublicKey(publicKeyOf(secretKey));
    this.parts = serviceParts({ store, did: this.did, sign: signerFor(secretKey), logger: logger ?? (() => {}), telemetry });
    this.registry = new Registry(store, config.orgDepth);
  }

  /**
   * Opens the data directory (creating the aggregator key on first use), checks the compiled
   * circuits against the manifest, opens the key sets (making local keys on first start,
   * src/keys/key-ring.ts), recovers the log and the state and starts the provers.
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
    const agg = new Aggregator(config, store, secretKey, opts.log, opts.telemetry);
    const logger = agg.parts.logger;
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
        log: logger,
        onKeyProgress: opts.onKeyProgress,
      });
      // The state's trees (and so recovery, batches' witnesses and presentations) hash with
      // the native addon where it builds: ten times the TypeScript Poseidon's pace.
      const native = await loadNativePoseidon();
      if (native) setPoseidonBackend((xs) => native.hash(xs));
      agg.stateHashing = native ? `native, ${native.arithmetic}` : 'typescript';
      agg.commitments = await CommitmentChecker.start((reason) => logger({ msg: 'native Poseidon unavailable; commitments are checked with WebAssembly', reason }));
      await agg.wire(opts.provers ?? localProvers, opts.limits);
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
        log: logger,
      });
      if (opts.startProvers !== false) {
        const latest = agg.sequencer.latestCheckpoint();
        await agg.provers.start(agg.keys.at(agg.sequencer.latestSequence + 1), latest && agg.keys.byHash(latest.body.keySetHash));
      }
    } catch (e) {
      await agg.close();
      throw e;
    }
    return agg;
  }

  /** Makes the roles and recovers the registry, the log and the state. */
  private async wire(factory: ProverFactory, limits?: RateLimits): Promise<void> {
    const t0 = performance.now();
    const { config, parts, keys, policy, policyHash } = this;
    await this.registry.load();
    this.ledger = await Ledger.open(parts.store, { snapshots: new SnapshotDir(join(config.dataDir, 'snapshots'), 'ledger', 'bin'), logger: parts.logger });
    const projection = new Projection();
    this.provers = new ProverPool({ factory, keys, batchProvers: Math.max(1, Math.floor(config.batchProvers ?? 1)), maxQueuedPresentations: config.maxQueuedPresentations, logger: parts.logger, telemetry: parts.telemetry });
    this.sequencer = new Sequencer(parts, { config, ledger: this.ledger, keys, provers: this.provers, projection, policy, policyHash, onCheckpoint: () => this.presenter.checkpointChanged() });
    this.presenter = new Presenter(parts, { config, keys, provers: this.provers, sequencer: this.sequencer, policy, policyHash, limits });
    this.ingestion = new Ingestion(parts, {
      config, ledger: this.ledger, registry: this.registry, projection, commitments: this.commitments!, policy, limits,
      pending: () => this.sequencer.pending,
      proving: () => this.provers.batchProvers(keys.at(this.sequencer.latestSequence + 1).hash)?.some((p) => p.status().state !== 'unavailable') ?? true,
      onAppended: () => this.sequencer.poke(),
    });
    const { replayed } = await this.sequencer.recover();
    parts.logger({
      msg: 'recovered', entries: this.ledger.size, proven: this.ledger.size - this.sequencer.pending, checkpoint: this.sequencer.latestSequence,
      fromSnapshot: this.sequencer.snapshotAt || undefined, replayedRecords: replayed, ms: Math.round(performance.now() - t0),
    });
  }

  /** Counters for /metrics. */
  get metrics(): Readonly<ServiceMetrics> {
    return this.parts.metrics;
  }

  /** False after a write to the store failed, until one succeeds (readiness). */
  get storeHealthy(): boolean {
    return this.parts.health.storeHealthy;
  }

  /** Every prover's state (readiness, tests). */
  proverStatus(): ProverStatus[] {
    return this.provers?.status() ?? [];
  }

  // ---- registry ----

  /**
   * Registers an organisation by its Ed25519 public key (hex) or did:key.
   * @throws ZkTrustError out_of_range for a malformed or small-order key, conflict if known.
   */
  registerOrg(input: unknown): Promise<OrgRecord> {
    return this.registry.register(input);
  }

  /** Suspends (or reactivates) an organisation. */
  setOrgStatus(did: string, status: 'active' | 'suspended'): Promise<OrgRecord> {
    return this.registry.setStatus(did, status);
  }

  /** The public registry: did, index, status (audit checks orgIndex against it). */
  async orgs(): Promise<PublicOrg[]> {
    return this.registry.list();
  }

  // ---- ingestion and the log ----

  /** Accepts a signed submission and returns a signed receipt (ingestion.ts). */
  submit(input: unknown): Promise<Signed<ReceiptBody>> {
    return this.ingestion.submit(input);
  }

  treeHead(): Signed<TreeHeadBody> {
    return this.ingestion.treeHead();
  }

  logEntries(start: number, end: number): Promise<LogEntry[]> {
    return this.ingestion.logEntries(start, end);
  }

  submission(id: string): Promise<unknown> {
    return this.ingestion.submission(id);
  }

  inclusionProof(index: number, size: number): { index: number; size: number; leafHash: string; path: string[] } {
    return this.ingestion.inclusionProof(index, size);
  }

  consistencyProof(first: number, second: number): { first: number; second: number; proof: string[] } {
    return this.ingestion.consistencyProof(first, second);
  }

  /** Which Poseidon checks commitments at ingestion: 'native, asm' or 'native, portable' (the
   * addon and its field arithmetic), or 'wasm' (the WebAssembly fallback). */
  get commitmentEngine(): string {
    return this.commitments?.description ?? 'none';
  }

  // ---- batches and checkpoints ----

  latestCheckpoint(): Signed<CheckpointBody> | undefined {
    return this.sequencer?.latestCheckpoint();
  }

  /** The latest checkpoint. @throws ZkTrustError not_found before the first. */
  latestCheckpointOrThrow(): Signed<CheckpointBody> {
    const latest = this.latestCheckpoint();
    if (!latest) throw new ZkTrustError('not_found', 'no checkpoint yet');
    return latest;
  }

  batch(sequence: number): Promise<StoredBatch> {
    return this.sequencer.batch(sequence);
  }

  /** Checkpoints [from, from + limit) with their batches' log ranges and acceptance times (sequencer.ts). */
  checkpoints(from: number, limit: number): Promise<CheckpointSummary[]> {
    return this.sequencer.checkpointRange(from, limit);
  }

  /** Entries accepted but not yet in a proven batch. */
  get pending(): number {
    return this.sequencer.pending;
  }

  /** Seconds since the oldest entry not yet in a proven batch was accepted (0 if none). */
  oldestPendingS(): number {
    return this.sequencer.oldestPendingS();
  }

  /** Whether the sequencer loop runs. */
  get sequencing(): boolean {
    return this.sequencer.isRunning;
  }

  /** Starts the sequencer. */
  start(): void {
    this.sequencer.start();
  }

  /** Stops the sequencer after the step in hand; ingestion goes on. */
  stop(): Promise<void> {
    return this.sequencer.stop();
  }

  /** The last sequence a built batch will take: key sets may be scheduled only after it. */
  get builtThrough(): number {
    return this.sequencer.builtThrough;
  }

  /** Resolves once every entry accepted so far is in a proven batch (for tests and tools). */
  drain(timeoutMs = 120_000): Promise<void> {
    return this.sequencer.drain(timeoutMs);
  }

  // ---- agents ----

  challenge(input: unknown): { agent: string; challenge: string; expires: number } {
    return this.presenter.challenge(input);
  }

  /** A threshold presentation for the agent that signed the request (presenter.ts). */
  presentThreshold(input: unknown): Promise<ProofResponse> {
    return this.presenter.presentThreshold(input);
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
    const set = this.keys.at(this.sequencer.latestSequence + 1)!;
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
    const set = hash === undefined ? this.keys.at(this.sequencer.latestSequence + 1) : this.keys.byHash(hash);
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
      document: this.parts.signed<KeyDocumentBody>('key-document', { aggregator: this.did, keySetHash: set.hash, descriptor: d, verificationKeys: set.verificationKeys, fromSequence }),
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
    await Promise.all([this.sequencer?.stop(), this.provers?.close()]);
    await this.commitments?.close();
    await this.ceremony?.close();
    await this.sequencer?.close();
    await this.parts.store.close();
  }
}
