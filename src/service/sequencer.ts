/**
 * The sequencer: turns the log into proven state transitions. It keeps two states, the
 * committed one (what the latest signed checkpoint proves; presentations are made from it)
 * and the working one (the committed state with every built batch applied), builds batches
 * on the working state ahead of their proofs, has them proven by the prover pool at once,
 * and signs checkpoints strictly in order, each only for a proof that verifies.
 *
 * Durability: a batch proof and its checkpoint are one synced write. After a restart the
 * committed state comes from the newest snapshot that matches its signed checkpoint, then
 * the stored batches after it are replayed from their openings and must reach each
 * checkpoint's root; unproven entries are proven next.
 * @module
 */
import { join } from 'node:path';
import type { OutcomeRecord } from '../crypto/commitment.ts';
import { maxEpochAt } from '../crypto/epoch.ts';
import type { ScorePolicyV2 } from '../crypto/score-policy.ts';
import { identityOfDid } from '../engines/fast-hash.ts';
import { ZkTrustError } from '../errors.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import type { ProofResult } from '../prover/groth16-prover.ts';
import type { Prover } from '../prover/prover.ts';
import type { CheckpointBody, CheckpointSummary, Signed } from '../protocol/wire.ts';
import { AgentState, type AppliedEntry } from '../state/agent-state.ts';
import { BATCH_PUBLIC_SIGNALS, buildBatch, fitBatch, type BatchSlots } from '../state/batch.ts';
import { numKey } from '../store/db.ts';
import { verifyGroth16 } from '../verifier/groth16.ts';
import type { Ledger, StoredOpening } from './ledger.ts';
import type { Projection } from './projection.ts';
import type { ProverPool } from './prover-pool.ts';
import { sameStatement, type ServiceParts } from './service-parts.ts';
import { SnapshotDir } from './snapshots.ts';

export interface StoredBatch {
  sequence: number;
  fromIndex: number;
  toIndex: number;
  proof: unknown;
  publicSignals: string[];
  checkpoint: Signed<CheckpointBody>;
}

export interface SequencerConfig {
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
  /** Snapshot the proven state every this many batches (and at shutdown); 0: never. */
  snapshotEveryBatches: number;
  /** Batch provers proving consecutive batches at once (ZKTRUST_BATCH_PROVERS, default 1). */
  batchProvers?: number;
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

/** What the sequencer needs besides the shared parts. */
export interface SequencerDeps {
  config: SequencerConfig;
  ledger: Ledger;
  keys: KeyRing;
  provers: ProverPool;
  /** Ingestion's projection: the sequencer releases a batch's new agents from it once proven. */
  projection: Projection;
  policy: Readonly<ScorePolicyV2>;
  policyHash: bigint;
  /** Called after each stored checkpoint (the presenter drops its cache). */
  onCheckpoint: (checkpoint: Signed<CheckpointBody>) => void;
}

export class Sequencer {
  private readonly deps: SequencerDeps;
  private readonly parts: ServiceParts;
  private working: AgentState;
  private committedState: AgentState;
  /** Batches built and being proven, in sequence order (the head is the next to commit). */
  private inflight: InFlightBatch[] = [];
  private lastCommitAt = 0;
  private proven = 0;
  private sequence = 0;
  private latest?: Signed<CheckpointBody>;
  private readonly snapshots: SnapshotDir;
  private snapshotSequence = 0;
  private snapshotWrite?: Promise<void>;
  private recovered = false;
  private running = false;
  private wake?: () => void;
  private loop?: Promise<void>;

  constructor(parts: ServiceParts, deps: SequencerDeps) {
    this.parts = parts;
    this.deps = deps;
    const shape = { agentDepth: deps.config.agentDepth, orgDepth: deps.config.orgDepth };
    this.working = new AgentState(shape, deps.policy);
    this.committedState = new AgentState(shape, deps.policy);
    this.snapshots = new SnapshotDir(join(deps.config.dataDir, 'snapshots'));
  }

  /** The proven state (read-only for others: presentations are proven from it). */
  get committed(): AgentState {
    return this.committedState;
  }

  // ---- recovery ----

  /**
   * Restores the committed state (snapshot, then the stored batches after it), seeds the
   * projection with it and every entry not yet proven, and copies it to the working state.
   * @throws ZkTrustError('internal') if the replayed state does not reach a checkpoint.
   */
  async recover(): Promise<{ replayed: number }> {
    const { store } = this.parts;
    await this.restoreSnapshot();
    let replayed = 0;
    for await (const [, b] of store.range<StoredBatch>('batches', { gt: numKey(this.sequence) })) {
      if (b.fromIndex !== this.proven) throw new ZkTrustError('internal', `stored batch ${b.sequence} does not start at ${this.proven}`);
      if (b.checkpoint.body.keySetHash !== this.deps.keys.at(b.sequence).hash) throw new ZkTrustError('internal', `checkpoint ${b.sequence} names another key set than the schedule`);
      const applied = await this.appliedEntries(b.fromIndex, b.toIndex);
      buildBatch(this.committedState, applied, this.slots, this.deps.policyHash, BigInt(b.publicSignals[BATCH_PUBLIC_SIGNALS.indexOf('maxEpoch')]!));
      if (BigInt(b.checkpoint.body.stateRoot) !== this.committedState.root) throw new ZkTrustError('internal', `replayed state does not reach checkpoint ${b.sequence}`);
      this.proven = b.toIndex;
      this.sequence = b.sequence;
      this.latest = b.checkpoint;
      replayed += applied.length;
    }
    // The projection for ingestion's checks: the proven state's, plus every entry not yet proven.
    const { projection, ledger } = this.deps;
    for (const { agent, orgIndex, nextEpoch } of this.committedState.orgEpochs()) projection.seed(agent, orgIndex, nextEpoch);
    projection.add((await this.appliedEntries(this.proven, ledger.size)).map((e) => ({ agent: e.record.agent, orgIndex: e.orgIndex, epoch: e.record.epoch })));
    // The working state starts as a copy of the committed one (replaying twice would double the cost).
    this.working = this.committedState.clone();
    this.recovered = true;
    return { replayed };
  }

  /** The checkpoint sequence the latest snapshot holds (0: none). */
  get snapshotAt(): number {
    return this.snapshotSequence;
  }

  // The newest snapshot that matches its signed checkpoint becomes the committed state.
  private async restoreSnapshot(): Promise<void> {
    const { config, policy } = this.deps;
    for (const seq of await this.snapshots.list()) {
      try {
        const b = await this.parts.store.get<StoredBatch>('batches', numKey(seq));
        if (!b) throw new Error('no stored batch has its sequence');
        const state = AgentState.fromSnapshot({ agentDepth: config.agentDepth, orgDepth: config.orgDepth }, await this.snapshots.read(seq), policy);
        const cp = b.checkpoint.body;
        if (state.root !== BigInt(cp.stateRoot) || state.chain !== BigInt(cp.chain) || state.applied !== b.toIndex) throw new Error('it does not match its checkpoint');
        this.committedState = state;
        this.proven = b.toIndex;
        this.sequence = seq;
        this.latest = b.checkpoint;
        this.snapshotSequence = seq;
        return;
      } catch (e) {
        this.parts.logger({ msg: 'state snapshot skipped', sequence: seq, reason: (e as Error).message });
      }
    }
  }

  /** Writes a snapshot of the committed state and of the ledger (taken now, written in the background). */
  private snapshotCommitted(): void {
    if (this.snapshotWrite || this.sequence === this.snapshotSequence) return;
    const sequence = this.sequence;
    const bytes = this.committedState.toSnapshot();
    const ledgerWrite = this.deps.ledger.saveSnapshot().catch((e) => this.parts.logger({ msg: 'ledger snapshot failed', error: (e as Error).message }));
    this.snapshotWrite = this.snapshots
      .write(sequence, bytes)
      .then(() => {
        this.snapshotSequence = sequence;
      })
      .catch((e) => this.parts.logger({ msg: 'state snapshot failed', sequence, error: (e as Error).message }))
      .then(() => ledgerWrite)
      .finally(() => {
        this.snapshotWrite = undefined;
      });
  }

  /** The log entries [from, to) as the batch circuit consumes them. */
  private async appliedEntries(from: number, to: number): Promise<AppliedEntry[]> {
    return (await this.deps.ledger.openings(from, to)).map(({ entry, opening }) => ({ record: recordOf(entry.org, opening), orgIndex: entry.orgIndex }));
  }

  /** The batch circuit's slots. */
  private get slots(): BatchSlots {
    return { insertSlots: this.deps.config.insertSlots, updateSlots: this.deps.config.updateSlots };
  }

  // ---- reads ----

  latestCheckpoint(): Signed<CheckpointBody> | undefined {
    return this.latest;
  }

  /** The number of the latest checkpoint (0 before the first). */
  get latestSequence(): number {
    return this.sequence;
  }

  async batch(sequence: number): Promise<StoredBatch> {
    // A path may hold 16 digits, past what numKey takes: no such batch, not a 500.
    if (!Number.isSafeInteger(sequence) || sequence < 0) throw new ZkTrustError('not_found', 'no such batch');
    const b = await this.parts.store.get<StoredBatch>('batches', numKey(sequence));
    if (!b) throw new ZkTrustError('not_found', 'no such batch');
    return b;
  }

  /**
   * The committed checkpoints [from, from + limit), in order, each with its batch's log range
   * and the acceptance times of the batch's first and last entries (the log is in acceptance
   * order: the first waited longest). Reads at most `limit` stored batches.
   */
  async checkpointRange(from: number, limit: number): Promise<CheckpointSummary[]> {
    const last = Math.min(this.sequence, from + limit - 1);
    if (last < from) return [];
    const { ledger } = this.deps;
    const out: CheckpointSummary[] = [];
    for await (const [, b] of this.parts.store.range<StoredBatch>('batches', { gte: numKey(from), lt: numKey(last + 1) })) {
      const lag = b.toIndex > b.fromIndex ? { firstAcceptedAt: ledger.acceptedAt(b.fromIndex), lastAcceptedAt: ledger.acceptedAt(b.toIndex - 1) } : {};
      out.push({ checkpoint: b.checkpoint, fromIndex: b.fromIndex, toIndex: b.toIndex, ...lag });
    }
    return out;
  }

  /** Entries accepted but not yet in a proven batch. */
  get pending(): number {
    return this.deps.ledger.size - this.proven;
  }

  /** Seconds since the oldest entry not yet in a proven batch was accepted (0 if none). */
  oldestPendingS(): number {
    const { ledger } = this.deps;
    return this.proven < ledger.size ? Math.max(0, (Date.now() - ledger.acceptedAt(this.proven)) / 1000) : 0;
  }

  /** The last sequence a built batch will take: key sets may be scheduled only after it. */
  get builtThrough(): number {
    return this.sequence + this.inflight.length;
  }

  /** The key sets a built batch or the latest checkpoint still needs. */
  keySetsInUse(): Set<string> {
    const { keys } = this.deps;
    return new Set([keys.at(this.sequence + 1).hash, ...(this.latest ? [this.latest.body.keySetHash] : []), ...this.inflight.map((b) => b.keySetHash)]);
  }

  // ---- the loop ----

  /** Whether the loop runs. */
  get isRunning(): boolean {
    return this.running;
  }

  /** Starts the loop: closes batches by size or age and proves them in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.sequencerLoop();
  }

  /** Wakes the loop (new entries, a drain). */
  poke(): void {
    this.wake?.();
  }

  /** Stops the loop after the step in hand; ingestion goes on. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop?.catch(() => undefined);
  }

  /** How many batch provers the sequencer keeps (ZKTRUST_BATCH_PROVERS; one queue in front of workers). */
  private get batchProverCount(): number {
    return Math.max(1, Math.floor(this.deps.config.batchProvers ?? 1));
  }

  /**
   * How many batches may be in flight: one per proof the batch provers make at once (a queue
   * counts its live workers), and one more built ahead.
   */
  private get pipelineDepth(): number {
    const batch = this.deps.provers.batchProvers(this.deps.keys.at(this.sequence + 1).hash);
    const proving = batch ? batch.reduce((n, p) => n + (p.capacity?.() ?? 1), 0) : this.batchProverCount;
    return Math.max(1, proving) + 1;
  }

  /**
   * Pipelined: a batch's witness depends only on the state after the batch before it, not on
   * that batch's proof, so batches are built ahead on the working state (one per proof the
   * provers make at once, and one more waiting) and proven at once; checkpoints are signed
   * strictly in sequence order, each only for a proof that verifies. A failed proof is retried
   * with the same input (the batches after it stay valid); a failure to build resets the
   * working state to the committed one and drops what was in flight.
   */
  private async sequencerLoop(): Promise<void> {
    const { logger, telemetry } = this.parts;
    while (this.running) {
      try {
        while (this.inflight.length < this.pipelineDepth && this.batchDue()) await this.buildNextBatch();
      } catch (e) {
        if (!this.running) return;
        logger({ level: 'warn', msg: 'batch could not be built; rebuilding from the proven state', error: (e as Error).message, from: this.proven });
        telemetry?.batchFailures.inc();
        this.inflight = [];
        await new Promise((r) => setTimeout(r, 1000));
        this.resetWorking();
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
        logger({ level: 'warn', msg: 'batch proof failed; retrying', error: (e as Error).message, from: head.from, sequence: head.sequence });
        telemetry?.batchFailures.inc();
        await new Promise((r) => setTimeout(r, 1000));
        if (!this.running) return;
        if (e instanceof StoreWriteFailed) continue; // the proof holds: only the write is retried
        if (e instanceof PipelineOutOfStep) {
          // The built batches no longer follow the committed state: build them again.
          this.inflight = [];
          this.resetWorking();
          continue;
        }
        this.startProof(head);
      }
    }
  }

  /** The first log entry no built batch holds. */
  private get builtTo(): number {
    return this.inflight.at(-1)?.to ?? this.proven;
  }

  /** Whether the entries no batch holds yet make a batch: full, or the oldest has waited long enough. */
  private batchDue(): boolean {
    const { ledger, projection, config } = this.deps;
    const unbuilt = ledger.size - this.builtTo;
    if (unbuilt <= 0) return false;
    const inserts = projection.pendingInserts - this.inflight.reduce((n, b) => n + b.inserts, 0);
    const full = unbuilt >= config.insertSlots + config.updateSlots || inserts > config.insertSlots || unbuilt - inserts > config.updateSlots;
    return full || Date.now() - ledger.acceptedAt(this.builtTo) >= config.batchMaxWaitMs;
  }

  private nextDueInMs(): number {
    const { ledger, config } = this.deps;
    if (ledger.size <= this.builtTo || this.inflight.length >= this.pipelineDepth) return 1000;
    return Math.max(10, ledger.acceptedAt(this.builtTo) + config.batchMaxWaitMs - Date.now());
  }

  private resetWorking(): void {
    this.working = this.committedState.clone();
  }

  /** Builds the next batch on the working state and starts proving it. */
  private async buildNextBatch(): Promise<void> {
    const { ledger, config, policy, policyHash } = this.deps;
    const from = this.builtTo;
    const next = await this.appliedEntries(from, Math.min(ledger.size, from + config.insertSlots + config.updateSlots));
    const applied = next.slice(0, fitBatch(this.working, next, this.slots));
    // The checkpoint is signed after the proof, so its day is at least this one (audit).
    const maxEpoch = BigInt(maxEpochAt(Date.now(), policy));
    const input = buildBatch(this.working, applied, this.slots, policyHash, maxEpoch);
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
      const keySet = this.deps.keys.at(b.sequence);
      b.keySetHash = keySet.hash;
      const provers = this.deps.provers.of(keySet).batch;
      prover = provers[b.sequence % provers.length]!;
    } catch (e) {
      b.result = Promise.resolve({ error: e as Error });
      b.settled = b.result;
      return;
    }
    const tp = performance.now();
    b.result = prover.prove('batch-update', b.input.input, { sequence: b.sequence }).then(
      (r) => {
        this.parts.telemetry?.proveDuration.observe({ circuit: 'batch-update' }, (performance.now() - tp) / 1000);
        return { proof: r };
      },
      (e: unknown) => ({ error: e instanceof Error ? e : new Error(String(e)) }),
    );
    b.settled = b.result;
  }

  /** Signs, stores and applies the head batch, if its proof is exactly what was asked and verifies. */
  private async commitBatch(b: InFlightBatch, result: { proof?: ProofResult<string>; error?: Error }): Promise<void> {
    if (!result.proof) throw result.error ?? new Error('no proof');
    const { store, metrics, telemetry, logger, health } = this.parts;
    const { keys, config, policyHash, ledger, projection } = this.deps;
    const { proof, publicSignals } = result.proof;
    const { sequence, from, to, input } = b;
    if (sequence !== this.sequence + 1 || from !== this.proven) throw new PipelineOutOfStep('the batch is not the next one');
    const keySet = keys.byHash(b.keySetHash);
    if (!keySet) throw new Error('the batch was proven under an unknown key set');
    // The prover's answer is trusted for nothing: its public signals must be exactly the
    // transition asked for (from the committed state), and the proof must verify below.
    if (input.public.oldRoot !== this.committedState.root) throw new PipelineOutOfStep('the batch does not start from the committed state');
    if (!sameStatement(BATCH_PUBLIC_SIGNALS, input.public, publicSignals)) throw new Error('the batch proof is not of the transition asked for');
    const named = input.public;
    // Sign only what verifies under the key set the checkpoint names, and only if that key
    // set is still the one in force (a rotation may have been scheduled meanwhile).
    if (!(await verifyGroth16(keySet.verificationKeys['batch-update']!, publicSignals, proof as never).catch(() => false))) throw new Error('the batch proof does not verify');
    if (keys.at(sequence).hash !== keySet.hash) throw new Error('the key set changed while the batch was proven');
    const checkpoint = this.parts.signed<CheckpointBody>('checkpoint', {
      sequence,
      config: config.circuits,
      stateRoot: named.newRoot!.toString(),
      chain: named.newChain!.toString(),
      logSize: to,
      policyHash: policyHash.toString(),
      time: Date.now(),
      keySetHash: keySet.hash,
      keyMode: keySet.descriptor.mode,
    });
    const stored: StoredBatch = { sequence, fromIndex: from, toIndex: to, proof, publicSignals, checkpoint };
    try {
      await store.write([{ type: 'put', sub: 'batches', key: numKey(sequence), value: stored }]);
      health.storeHealthy = true;
    } catch (e) {
      health.storeHealthy = false;
      throw new StoreWriteFailed(`the checkpoint could not be written: ${(e as Error).message}`);
    }
    buildBatch(this.committedState, b.applied, this.slots, policyHash, b.maxEpoch);
    projection.pendingInserts -= b.inserts;
    this.proven = to;
    this.sequence = sequence;
    this.inflight.shift();
    const rotated = this.latest?.body.keySetHash !== checkpoint.body.keySetHash;
    this.latest = checkpoint;
    this.deps.onCheckpoint(checkpoint);
    // What follows a stored checkpoint never undoes it: a failure is logged, not retried.
    if (rotated) await this.deps.provers.retire(this.keySetsInUse()).catch((e: Error) => logger({ level: 'error', msg: 'retiring old provers failed', error: e.message }));
    if (config.snapshotEveryBatches > 0 && sequence - this.snapshotSequence >= config.snapshotEveryBatches) this.snapshotCommitted();
    metrics.batchesProven++;
    // The pace of the pipeline, for backpressure: from the previous commit (or this batch's
    // build, if the provers were idle meanwhile) to this one.
    const now = performance.now();
    metrics.batchProveMs += now - Math.max(b.t0, this.lastCommitAt);
    this.lastCommitAt = now;
    telemetry?.batchesProven.inc();
    if (to > from) telemetry?.batchLag.observe((checkpoint.body.time - ledger.acceptedAt(from)) / 1000);
  }

  /** Resolves once every entry accepted so far is in a proven batch (for tests and tools). */
  async drain(timeoutMs = 120_000): Promise<void> {
    const target = this.deps.ledger.size;
    const t0 = Date.now();
    while (this.proven < target) {
      if (Date.now() - t0 > timeoutMs) throw new ZkTrustError('unavailable', 'timed out waiting for batches');
      this.wake?.();
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the loop and snapshots the proven state (at shutdown). */
  async close(): Promise<void> {
    await this.stop();
    await this.snapshotWrite;
    if (this.deps.config.snapshotEveryBatches > 0 && this.recovered) {
      this.snapshotCommitted();
      await this.snapshotWrite;
    }
  }
}

/** A stored opening as the circuit's record. */
function recordOf(org: string, o: StoredOpening): OutcomeRecord {
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
