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
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalJson, signingBytes } from '../crypto/canonical.ts';
import type { OutcomeRecord } from '../crypto/commitment.ts';
import { contextHash } from '../crypto/context.ts';
import { assertValidPublicKey, publicKeyOf, verifyStrict } from '../crypto/ed25519.ts';
import { didFromPublicKey, identityField, publicKeyFromDid } from '../crypto/identity.ts';
import { maxEpochAt } from '../crypto/epoch.ts';
import { POLICY_V2, meetsEvidenceThreshold, policyHash, withinRecordCap } from '../crypto/score-policy.ts';
import { ZkTrustError } from '../errors.ts';
import { loadCircuitArtifacts, type LoadedCircuit } from '../prover/artifacts.ts';
import { loadAddon } from '../native/addon.ts';
import { ProverProcess } from '../prover/prover-process.ts';
import { AgentState, genesisRoot, type AppliedEntry } from '../state/agent-state.ts';
import { BATCH_PUBLIC_SIGNALS, buildBatch, fitBatch, type BatchSlots } from '../state/batch.ts';
import { THRESHOLD_PUBLIC_SIGNALS, buildThresholdInput } from '../state/threshold-input.ts';
import { Store, numKey, type Op } from '../store/db.ts';
import { CommitmentChecker, type CheckedRecord } from './commitment-check.ts';
import { signerFor, verifierFor } from './fast-ed25519.ts';
import { identityOfDid } from './fast-hash.ts';
import { Ledger, submissionId, type LogEntry, type StoredOpening, type SubmissionRecord } from './ledger.ts';
import { Projection, type ProjectionUndo } from './projection.ts';
import { SnapshotDir } from './snapshots.ts';
import * as v from './validate.ts';

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
}

interface OrgRecord {
  did: string;
  publicKey: string;
  index: number;
  name: string;
  status: 'active' | 'suspended';
  registeredAt: number;
}

export interface Signed<T> {
  body: T;
  /** did:key of the aggregator. */
  signer: string;
  /** Ed25519 over signingBytes(type, body), hex. */
  signature: string;
}

export interface TreeHeadBody {
  size: number;
  root: string;
  timestamp: number;
}

export interface Receipt {
  org: string;
  /** The submission's entries are [firstIndex, firstIndex + count) of the log. */
  firstIndex: number;
  count: number;
  /** A tree head that includes them. */
  treeHead: TreeHeadBody;
  /** The time (ms since the epoch) by which they will be in a proven batch. */
  deadline: number;
}

/** A checked submission waiting for the group commit. */
interface PendingAppend {
  record: SubmissionRecord;
  openings: StoredOpening[];
  parsed: OutcomeRecord[];
  resolve: (receipt: Signed<Receipt>) => void;
  reject: (e: unknown) => void;
}

export interface CheckpointBody {
  sequence: number;
  config: string;
  stateRoot: string;
  chain: string;
  logSize: number;
  policyHash: string;
  time: number;
}

export interface StoredBatch {
  sequence: number;
  fromIndex: number;
  toIndex: number;
  proof: unknown;
  publicSignals: string[];
  checkpoint: Signed<CheckpointBody>;
}

export interface Presentation {
  version: 1;
  circuit: 'threshold';
  config: string;
  agent: string;
  proof: unknown;
  publicSignals: string[];
  context: { nonce: string; audience: string; expiry: number };
  checkpoint: Signed<CheckpointBody>;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const RECORD_KEYS = ['commitment', 'agent', 'epoch', 'kept', 'broken', 'violations', 'scope', 'salt'] as const;

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
  private readonly policy = POLICY_V2;
  private readonly policyHash = policyHash(POLICY_V2);
  private readonly batchCircuit: LoadedCircuit;
  private readonly thresholdCircuit: LoadedCircuit;
  private batchProver?: ProverProcess;
  private commitments?: CommitmentChecker;
  private thresholdProver?: ProverProcess;
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
  private readonly challenges = new Map<string, { agent: string; expires: number }>();
  private readonly presentationCache = new Map<string, Presentation>();
  private running = false;
  private wake?: () => void;
  private loop?: Promise<void>;
  /** Counters for /metrics. */
  readonly metrics = { recordsAccepted: 0, logWrites: 0, submissionsRejected: 0, batchesProven: 0, batchProveMs: 0, presentations: 0, presentationCacheHits: 0 };

  private constructor(config: AggregatorConfig, store: Store, secretKey: Uint8Array, batchCircuit: LoadedCircuit, thresholdCircuit: LoadedCircuit, logger?: (entry: Record<string, unknown>) => void) {
    this.config = config;
    this.logger = logger ?? (() => {});
    this.snapshots = new SnapshotDir(join(config.dataDir, 'snapshots'));
    this.store = store;
    this.signer = signerFor(secretKey);
    this.did = didFromPublicKey(publicKeyOf(secretKey));
    this.working = new AgentState({ agentDepth: config.agentDepth, orgDepth: config.orgDepth });
    this.committed = new AgentState({ agentDepth: config.agentDepth, orgDepth: config.orgDepth });
    this.batchCircuit = batchCircuit;
    this.thresholdCircuit = thresholdCircuit;
  }

  /**
   * Opens the data directory (creating the aggregator key on first use), checks the circuit
   * artifacts against the manifest, replays the state and starts the provers.
   * @throws ZkTrustError('internal') if the replayed state does not reach the last checkpoint.
   */
  static async open(config: AggregatorConfig, opts: { startProvers?: boolean; log?: (entry: Record<string, unknown>) => void } = {}): Promise<Aggregator> {
    await mkdir(config.dataDir, { recursive: true });
    const keyPath = join(config.dataDir, 'aggregator.key');
    if (!existsSync(keyPath)) await writeFile(keyPath, hex(randomBytes(32)) + '\n', { mode: 0o600, flag: 'wx' });
    const secretKey = Uint8Array.from(Buffer.from((await readFile(keyPath, 'utf8')).trim(), 'hex'));
    const batchCircuit = await loadCircuitArtifacts(config.circuits, 'batch-update');
    const thresholdCircuit = await loadCircuitArtifacts(config.circuits, 'threshold');
    const store = await Store.open(join(config.dataDir, 'db'));
    const agg = new Aggregator(config, store, secretKey, batchCircuit, thresholdCircuit, opts.log);
    try {
      await agg.recover();
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
    this.batchProver = await ProverProcess.start([
      { circuit: 'batch-update', wasmPath: this.batchCircuit.wasmPath, zkeyPath: this.batchCircuit.zkeyPath, publicNames: BATCH_PUBLIC_SIGNALS },
    ]);
    this.thresholdProver = await ProverProcess.start([
      { circuit: 'threshold', wasmPath: this.thresholdCircuit.wasmPath, zkeyPath: this.thresholdCircuit.zkeyPath, publicNames: THRESHOLD_PUBLIC_SIGNALS },
    ]);
    const reason = this.batchProver.msmFallback ?? this.thresholdProver.msmFallback;
    if (reason) this.logger({ msg: 'native multiexponentiation unavailable; proofs use WebAssembly only', reason });
  }

  private signed<T>(type: string, body: T): Signed<T> {
    return { body, signer: this.did, signature: hex(this.signer(signingBytes(type, body))) };
  }

  // A strict node:crypto verifier per registered organisation key (src/service/fast-ed25519.ts).
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
    const body = v.object(input, 'body', ['name'], ['publicKey', 'did']);
    const name = v.string(body.name, 'name', { max: 200 });
    let pk: Uint8Array;
    try {
      pk = body.did !== undefined ? publicKeyFromDid(v.string(body.did, 'did', { pattern: v.DID_PATTERN })) : v.hexBytes(body.publicKey, 'publicKey', 32);
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
  async submit(input: unknown): Promise<Signed<Receipt>> {
    try {
      return await this.submitChecked(input);
    } catch (e) {
      this.metrics.submissionsRejected++;
      throw e;
    }
  }

  private async submitChecked(input: unknown) {
    const body = v.object(input, 'body', ['org', 'nonce', 'timestamp', 'records', 'signature']);
    const orgDid = v.string(body.org, 'org', { pattern: v.DID_PATTERN });
    const nonce = v.string(body.nonce, 'nonce', { pattern: v.NONCE_PATTERN });
    const timestamp = v.integer(body.timestamp, 'timestamp', 0, 2 ** 40);
    const signature = v.hexBytes(body.signature, 'signature', 64);
    const rawRecords = v.array(body.records, 'records', 1, this.config.maxRecordsPerSubmission);
    const commitments: string[] = new Array(rawRecords.length);
    const openings: StoredOpening[] = new Array(rawRecords.length);
    const checked: CheckedRecord[] = new Array(rawRecords.length);
    for (let i = 0; i < rawRecords.length; i++) {
      const o = v.object(rawRecords[i], `records[${i}]`, RECORD_KEYS);
      const commitment = v.fieldElement(o.commitment, `records[${i}].commitment`);
      const agent = v.string(o.agent, `records[${i}].agent`, { pattern: v.DID_PATTERN });
      const salt = v.fieldElement(o.salt, `records[${i}].salt`);
      const opening: StoredOpening = {
        agent,
        epoch: v.integer(o.epoch, `records[${i}].epoch`, 0, 2 ** 32 - 1),
        kept: v.integer(o.kept, `records[${i}].kept`, 0, 2 ** 32 - 1),
        broken: v.integer(o.broken, `records[${i}].broken`, 0, 2 ** 32 - 1),
        violations: v.integer(o.violations, `records[${i}].violations`, 0, 2 ** 32 - 1),
        scope: v.integer(o.scope, `records[${i}].scope`, 0, 2 ** 32 - 1),
        salt: o.salt as string,
      };
      let agentField: bigint;
      try {
        agentField = identityOfDid(agent);
      } catch {
        throw new ZkTrustError('out_of_range', `records[${i}].agent is not an Ed25519 did:key`);
      }
      commitments[i] = o.commitment as string;
      openings[i] = opening;
      checked[i] = { ...opening, commitment, agent: agentField, salt };
    }
    const org = this.registry.get(orgDid);
    if (!org) throw new ZkTrustError('unknown_org', 'the organisation is not registered');
    if (org.status !== 'active') throw new ZkTrustError('org_suspended', 'the organisation is suspended');
    const signed = signingBytes('submission', { org: orgDid, nonce, timestamp, commitments });
    if (!this.orgVerifier(org)(signature, signed)) {
      throw new ZkTrustError('invalid_signature', 'the submission signature does not verify under the organisation key');
    }
    const now = Date.now();
    if (Math.abs(now - timestamp * 1000) > this.config.timestampWindowMs) throw new ZkTrustError('stale_timestamp', 'timestamp is outside the accepted window');
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
    const record: SubmissionRecord = { org: orgDid, nonce, timestamp, commitments, signature: hex(signature), firstIndex: -1, orgIndex: org.index, acceptedAt: now };
    return new Promise<Signed<Receipt>>((resolve, reject) => {
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
          await this.store.write(ops);
        } catch (e) {
          for (const u of undo.reverse()) this.projected.undo(u);
          for (const p of group) p.reject(new ZkTrustError('unavailable', `the log could not be written: ${(e as Error).message}`));
          continue;
        }
        for (const p of group) this.ledger.added(p.record);
        this.metrics.recordsAccepted += added;
        this.metrics.logWrites++;
        this.wake?.();
        const treeHead = this.treeHeadBody();
        for (const p of group) {
          const r = p.record;
          p.resolve(this.signed('receipt', { org: r.org, firstIndex: r.firstIndex, count: r.commitments.length, treeHead, deadline: r.acceptedAt + this.config.receiptDeadlineMs }));
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

  async batch(sequence: number): Promise<StoredBatch> {
    const b = await this.store.get<StoredBatch>('batches', numKey(sequence));
    if (!b) throw new ZkTrustError('not_found', 'no such batch');
    return b;
  }

  /** Which Poseidon checks commitments at ingestion: 'native, asm' or 'native, portable' (the
   * addon and its field arithmetic), or 'wasm' (the WebAssembly fallback). */
  get commitmentEngine(): string {
    return this.commitments?.description ?? 'none';
  }

  /** Entries accepted but not yet in a proven batch. */
  get pending(): number {
    return this.ledger.size - this.proven;
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

  private async sequencerLoop(): Promise<void> {
    while (this.running) {
      const pending = this.pending;
      const oldest = this.proven < this.ledger.size ? this.ledger.entry(this.proven).acceptedAt : undefined;
      // A batch is full when it holds a record per slot, or when the next pending record
      // would be one new agent or one update too many.
      const inserts = this.projected.pendingInserts;
      const full = pending >= this.config.insertSlots + this.config.updateSlots || inserts > this.config.insertSlots || pending - inserts > this.config.updateSlots;
      const due = full || (pending > 0 && oldest !== undefined && Date.now() - oldest >= this.config.batchMaxWaitMs);
      if (!due) {
        const wait = pending > 0 && oldest !== undefined ? Math.max(10, oldest + this.config.batchMaxWaitMs - Date.now()) : 1000;
        await new Promise<void>((res) => {
          const t = setTimeout(res, wait);
          this.wake = () => {
            clearTimeout(t);
            res();
          };
        });
        this.wake = undefined;
        continue;
      }
      try {
        await this.proveNextBatch();
      } catch (e) {
        if (!this.running) return;
        // The working state may be ahead of the store: rebuild it before trying again.
        process.emitWarning(`zktrust: batch proof failed, retrying: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 1000));
        await this.resetWorking();
      }
    }
  }

  private async resetWorking(): Promise<void> {
    this.working = this.committed.clone();
  }

  private async proveNextBatch(): Promise<void> {
    const from = this.proven;
    const next = await this.appliedEntries(from, Math.min(this.ledger.size, from + this.config.insertSlots + this.config.updateSlots));
    const applied = next.slice(0, fitBatch(this.working, next, this.slots));
    const to = from + applied.length;
    const t0 = performance.now();
    // The checkpoint is signed after the proof, so its day is at least this one (audit).
    const maxEpoch = BigInt(maxEpochAt(Date.now(), this.policy));
    const input = buildBatch(this.working, applied, this.slots, this.policyHash, maxEpoch);
    const { proof, publicSignals, named } = await this.batchProver!.prove('batch-update', input.input);
    if (named.newRoot !== input.public.newRoot || named.oldRoot !== this.committed.root) throw new Error('batch proof does not continue the committed state');
    const sequence = this.sequence + 1;
    const checkpoint = this.signed('checkpoint', {
      sequence,
      config: this.config.circuits,
      stateRoot: named.newRoot!.toString(),
      chain: named.newChain!.toString(),
      logSize: to,
      policyHash: this.policyHash.toString(),
      time: Date.now(),
    });
    const stored: StoredBatch = { sequence, fromIndex: from, toIndex: to, proof, publicSignals, checkpoint };
    await this.store.write([{ type: 'put', sub: 'batches', key: numKey(sequence), value: stored }]);
    buildBatch(this.committed, applied, this.slots, this.policyHash, maxEpoch);
    this.projected.pendingInserts -= input.inserts;
    this.proven = to;
    this.sequence = sequence;
    this.latest = checkpoint;
    this.presentationCache.clear();
    if (this.config.snapshotEveryBatches > 0 && sequence - this.snapshotSequence >= this.config.snapshotEveryBatches) this.snapshotCommitted();
    this.metrics.batchesProven++;
    this.metrics.batchProveMs += performance.now() - t0;
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

  /** A fresh challenge for an agent to sign into its next request (proof of control). */
  challenge(agentDid: unknown): { agent: string; challenge: string; expires: number } {
    const agent = v.string(agentDid, 'agent', { pattern: v.DID_PATTERN });
    try {
      publicKeyFromDid(agent);
    } catch {
      throw new ZkTrustError('out_of_range', 'agent is not an Ed25519 did:key');
    }
    const now = Date.now();
    for (const [k, c] of this.challenges) if (c.expires < now) this.challenges.delete(k);
    if (this.challenges.size > 100_000) throw new ZkTrustError('rate_limited', 'too many open challenges');
    const challenge = hex(randomBytes(16));
    const expires = now + this.config.challengeTtlMs;
    this.challenges.set(challenge, { agent, expires });
    return { agent, challenge, expires };
  }

  /**
   * A threshold presentation for the agent that signed the request (docs/api.md).
   * @throws ZkTrustError: invalid_signature / forbidden for a request not signed by the
   *   agent or with an unknown, expired or reused challenge; not_found before the agent's first
   *   proven record; predicate_false when the statement does not hold.
   */
  async presentThreshold(input: unknown): Promise<Presentation> {
    const body = v.object(input, 'body', ['agent', 'minScore', 'context', 'challenge', 'signature'], ['minRecords', 'minOrgs']);
    const agent = v.string(body.agent, 'agent', { pattern: v.DID_PATTERN });
    const minScore = v.integer(body.minScore, 'minScore', 0, 1000);
    const minRecords = v.integer(body.minRecords ?? 0, 'minRecords', 0, 2 ** 47);
    const minOrgs = v.integer(body.minOrgs ?? 0, 'minOrgs', 0, 2 ** 47);
    const ctx = v.object(body.context, 'context', ['nonce', 'audience', 'expiry']);
    const context = {
      nonce: v.string(ctx.nonce, 'context.nonce', { max: 256, pattern: /^.+$/ }),
      audience: v.string(ctx.audience, 'context.audience', { max: 256, pattern: /^.+$/ }),
      expiry: v.integer(ctx.expiry, 'context.expiry', 0, 2 ** 40 - 1),
    };
    const challenge = v.string(body.challenge, 'challenge', { pattern: /^[0-9a-f]{32}$/ });
    const signature = v.hexBytes(body.signature, 'signature', 64);
    let pk: Uint8Array;
    try {
      pk = publicKeyFromDid(agent);
    } catch {
      throw new ZkTrustError('out_of_range', 'agent is not an Ed25519 did:key');
    }
    const request = { agent, minScore, minRecords, minOrgs, context, challenge };
    if (!verifyStrict(signature, signingBytes('threshold-request', request), pk)) throw new ZkTrustError('invalid_signature', 'the request is not signed by the agent');
    const c = this.challenges.get(challenge);
    if (!c || c.agent !== agent || c.expires < Date.now()) throw new ZkTrustError('forbidden', 'unknown, expired or foreign challenge');
    this.challenges.delete(challenge);
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
    const ctxHash = contextHash(context);
    const key = canonicalJson({ agent, minScore, minRecords, minOrgs, ctx: ctxHash.toString(), seq: this.latest.body.sequence });
    const hit = this.presentationCache.get(key);
    if (hit) {
      this.metrics.presentationCacheHits++;
      return hit;
    }
    const checkpoint = this.latest;
    const { input: circuitInput } = buildThresholdInput(
      this.committed,
      { agent: agentField, minScore: BigInt(minScore), minRecords: BigInt(minRecords), minOrgs: BigInt(minOrgs), contextHash: ctxHash },
      this.policyHash,
    );
    const { proof, publicSignals } = await this.thresholdProver!.prove('threshold', circuitInput);
    const presentation: Presentation = { version: 1, circuit: 'threshold', config: this.config.circuits, agent, proof, publicSignals, context, checkpoint };
    if (this.presentationCache.size > 10_000) this.presentationCache.clear();
    this.presentationCache.set(key, presentation);
    this.metrics.presentations++;
    return presentation;
  }

  /** Verification keys of this aggregator's circuits, for verifiers. */
  verificationKeys(): { config: string; batchUpdate: unknown; threshold: unknown; genesisRoot: string } {
    return {
      config: this.config.circuits,
      batchUpdate: this.batchCircuit.vkey,
      threshold: this.thresholdCircuit.vkey,
      genesisRoot: genesisRoot({ agentDepth: this.config.agentDepth, orgDepth: this.config.orgDepth }).toString(),
    };
  }

  /** Stops the sequencer and the provers, snapshots the proven state and closes the store. */
  async close(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.batchProver?.close();
    await this.thresholdProver?.close();
    await this.commitments?.close();
    await this.loop?.catch(() => undefined);
    await this.snapshotWrite;
    if (this.config.snapshotEveryBatches > 0 && this.recovered) {
      this.snapshotCommitted();
      await this.snapshotWrite;
    }
    await this.store.close();
  }
}
