/**
 * Ingestion: signed submissions into the transparency log, and the log's public reads.
 *
 * A submission is authenticated before anything else is computed per record (envelope,
 * organisation, signature, timestamp and nonce, the organisation's budget), then each record
 * is checked in full, including everything the batch circuit would refuse (invariant 9), so
 * that every receipt stays provable (invariant 7). Durability: an accepted submission (its
 * entries, openings, submission record and nonce) is one LevelDB batch synced to disk before
 * the receipt is returned; submissions that finish their checks while a write syncs are
 * written together (group commit).
 * @module
 */
import { signingBytes } from '../crypto/canonical.ts';
import type { OutcomeRecord } from '../crypto/commitment.ts';
import { maxEpochAt } from '../crypto/epoch.ts';
import { withinRecordCap, type ScorePolicyV2 } from '../crypto/score-policy.ts';
import type { CheckedRecord, CommitmentChecker } from '../engines/commitment-check.ts';
import { identityOfDid } from '../engines/fast-hash.ts';
import { ZkTrustError } from '../errors.ts';
import { RecordSchema, parseOrThrow, submissionEnvelope } from '../protocol/schemas.ts';
import type { ReceiptBody, Signed, TreeHeadBody } from '../protocol/wire.ts';
import type { Op } from '../store/db.ts';
import { submissionId, type Ledger, type LogEntry, type StoredOpening, type SubmissionRecord } from './ledger.ts';
import type { RateLimits } from './limits.ts';
import type { Projection, ProjectionUndo } from './projection.ts';
import type { Registry } from './registry.ts';
import type { ServiceParts } from './service-parts.ts';

export interface IngestionConfig {
  agentDepth: number;
  insertSlots: number;
  updateSlots: number;
  /** Receipts promise inclusion in a proven batch by acceptance time + this. */
  receiptDeadlineMs: number;
  timestampWindowMs: number;
  maxRecordsPerSubmission: number;
  /** Proving cost per record assumed until batches have been measured (milliseconds). */
  expectedMsPerRecord: number;
}

export interface IngestionDeps {
  config: IngestionConfig;
  ledger: Ledger;
  registry: Registry;
  projection: Projection;
  commitments: CommitmentChecker;
  policy: Readonly<ScorePolicyV2>;
  limits?: RateLimits;
  /** Entries accepted but not yet proven (the sequencer's backlog). */
  pending: () => number;
  /** Whether a prover can take batches now (a queue without a live worker cannot). */
  proving: () => boolean;
  /** Called after entries are appended (wakes the sequencer). */
  onAppended: () => void;
}

/** A checked submission waiting for the group commit. */
interface PendingAppend {
  record: SubmissionRecord;
  openings: StoredOpening[];
  parsed: OutcomeRecord[];
  resolve: (receipt: Signed<ReceiptBody>) => void;
  reject: (e: unknown) => void;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export class Ingestion {
  private readonly parts: ServiceParts;
  private readonly deps: IngestionDeps;
  private readonly envelope: ReturnType<typeof submissionEnvelope>;
  private readonly appendQueue: PendingAppend[] = [];
  private appending = false;

  constructor(parts: ServiceParts, deps: IngestionDeps) {
    this.parts = parts;
    this.deps = deps;
    this.envelope = submissionEnvelope(deps.config.maxRecordsPerSubmission);
  }

  /**
   * Accepts a signed submission of records (see docs/api.md) and returns a signed receipt.
   * Nothing is stored unless every check passes.
   * @throws ZkTrustError with the failing check's code.
   */
  async submit(input: unknown): Promise<Signed<ReceiptBody>> {
    try {
      return await this.submitChecked(input);
    } catch (e) {
      this.parts.metrics.submissionsRejected++;
      this.parts.telemetry?.submissionsRejected.inc({ code: e instanceof ZkTrustError ? e.code : 'internal' });
      throw e;
    }
  }

  private async submitChecked(input: unknown) {
    const { registry, ledger, limits, config, policy } = this.deps;
    // 1. Authenticate first: the envelope's shape and the commitments the signature covers,
    //    the organisation, its signature, its rate. Nothing else is computed per record before.
    const env = parseOrThrow(this.envelope, input, 'body');
    const orgDid = env.org;
    const org = registry.get(orgDid);
    if (!org) throw new ZkTrustError('unknown_org', 'the organisation is not registered');
    if (org.status !== 'active') throw new ZkTrustError('org_suspended', 'the organisation is suspended');
    const { nonce, timestamp } = env;
    const commitments = env.records.map((r) => r.commitment);
    const signature = Uint8Array.from(Buffer.from(env.signature, 'hex'));
    const signed = signingBytes('submission', { org: orgDid, nonce, timestamp, commitments });
    if (!registry.verifier(org)(signature, signed)) {
      throw new ZkTrustError('invalid_signature', 'the submission signature does not verify under the organisation key');
    }
    // A replayed genuine submission carries a valid signature: refused before it can spend
    // the organisation's rate budget (a replay must never lock its organisation out).
    const now = Date.now();
    if (Math.abs(now - timestamp * 1000) > config.timestampWindowMs) throw new ZkTrustError('stale_timestamp', 'timestamp is outside the accepted window');
    if (ledger.nonceUsed(orgDid, nonce)) throw new ZkTrustError('replayed_nonce', 'this nonce was already used by the organisation');
    await limits?.take('org', orgDid);
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
    const bad = await this.deps.commitments.firstMismatch(orgField, checked);
    if (bad >= 0) throw new ZkTrustError('commitment_mismatch', `records[${bad}].commitment is not the commitment of its opening`);
    const parsed: OutcomeRecord[] = checked.map((r) => ({
      agent: r.agent, org: orgField, epoch: BigInt(r.epoch), kept: BigInt(r.kept), broken: BigInt(r.broken), violations: BigInt(r.violations), scope: BigInt(r.scope), salt: r.salt,
    }));
    // Policy v2 (invariant 9): what the batch circuit refuses is refused before a receipt.
    const maxEpoch = BigInt(maxEpochAt(now, policy));
    parsed.forEach((r, i) => {
      if (!withinRecordCap(r, policy)) throw new ZkTrustError('record_over_cap', `records[${i}]: kept + broken + ${policy.violationWeight} * violations exceeds the record cap ${policy.recordCap}`);
      if (r.epoch > maxEpoch) throw new ZkTrustError('future_epoch', `records[${i}]: epoch ${r.epoch} is after ${maxEpoch}, the current day plus the allowed skew`);
    });
    const record: SubmissionRecord = { org: orgDid, nonce, timestamp, commitments, signature: env.signature, firstIndex: -1, orgIndex: org.index, acceptedAt: now };
    return new Promise<Signed<ReceiptBody>>((resolve, reject) => {
      this.appendQueue.push({ record, openings, parsed, resolve, reject });
      if (!this.appending) void this.flushAppends();
    });
  }

  /** Refuses a submission that would put a new agent into a full tree. */
  private checkTreeRoom(inserts: number): void {
    if (this.deps.projection.agents + inserts > 4 ** this.deps.config.agentDepth - 1) throw new ZkTrustError('conflict', 'the agent state tree is full');
  }

  /**
   * Backpressure: a receipt promises a proven batch by its deadline, so refuse records that
   * the provers could not reach in time. A batch takes entries in log order until the next one
   * would be one new agent or one update too many, so every batch but the last fills its
   * insert slots or its update slots: i new agents and u updates need at most
   * floor(i / insertSlots) + floor(u / updateSlots) + 1 batches. They are counted at the
   * measured pace of the pipeline (commit to commit, so it counts the provers actually
   * proving; the configured estimate until one is measured), with a 20% margin. `ahead`:
   * records accepted earlier in the same group commit (their inserts are already in the
   * projection).
   * @throws ZkTrustError payload_too_large for a submission larger than the capacity itself
   *   (it could never be accepted), unavailable (retry later) when the backlog is too long or
   *   no prover is connected.
   */
  private checkCapacity(count: number, inserts: number, ahead = 0): void {
    const { config, projection } = this.deps;
    const { metrics } = this.parts;
    // No receipt whose deadline nothing is there to meet.
    if (!this.deps.proving()) throw new ZkTrustError('unavailable', 'no prover is connected; retry later', { retryAfterS: 10 });
    const { insertSlots, updateSlots } = config;
    const msPerBatch = metrics.batchesProven > 0 ? metrics.batchProveMs / metrics.batchesProven : config.expectedMsPerRecord * (insertSlots + updateSlots);
    const available = Math.floor((0.8 * config.receiptDeadlineMs) / Math.max(1, msPerBatch));
    const batches = (n: number, i: number) => Math.floor(i / insertSlots) + Math.floor((n - i) / updateSlots) + 1;
    if (batches(count, inserts) > available) throw new ZkTrustError('payload_too_large', `at most ${available} batches can be proven before the receipt deadline; split the submission`);
    const pending = this.deps.pending() + ahead;
    if (batches(pending + count, projection.pendingInserts + inserts) > available) {
      throw new ZkTrustError('unavailable', `the prover cannot reach more records before the receipt deadline (${pending} pending); retry later`);
    }
  }

  /**
   * Group commit: the submissions that finished their checks while the previous write was
   * syncing are appended together, in arrival order, in one synced LevelDB batch. Each is
   * checked on its own first (nonce, epochs, tree room, capacity), after every submission
   * before it, so one refused submission never fails another; if the write fails, every
   * submission of the group fails and nothing of it is kept.
   */
  private async flushAppends(): Promise<void> {
    const { ledger, registry, projection, config } = this.deps;
    const { store, metrics, telemetry, logger, health } = this.parts;
    this.appending = true;
    try {
      while (this.appendQueue.length > 0) {
        const queued = this.appendQueue.splice(0, this.appendQueue.length);
        const group: PendingAppend[] = [];
        const ops: Op[] = [];
        const nonces = new Set<string>();
        const undo: ProjectionUndo[] = [];
        let next = ledger.size;
        let added = 0;
        for (const p of queued) {
          try {
            const id = submissionId(p.record.org, p.record.nonce);
            if (registry.get(p.record.org)?.status !== 'active') throw new ZkTrustError('org_suspended', 'the organisation is suspended');
            if (nonces.has(id) || ledger.nonceUsed(p.record.org, p.record.nonce)) throw new ZkTrustError('replayed_nonce', 'this nonce was already used by the organisation');
            const projected = p.parsed.map((r) => ({ agent: r.agent, orgIndex: p.record.orgIndex, epoch: r.epoch }));
            const { inserts } = projection.check(projected);
            this.checkTreeRoom(inserts);
            this.checkCapacity(p.parsed.length, inserts, added);
            undo.push(projection.add(projected));
            nonces.add(id);
            p.record.firstIndex = next;
            next += p.record.commitments.length;
            added += p.record.commitments.length;
            ops.push(...ledger.appendOps(p.record, p.openings));
            group.push(p);
          } catch (e) {
            p.reject(e);
          }
        }
        if (group.length === 0) continue;
        try {
          const t0 = performance.now();
          await store.write(ops);
          telemetry?.logWriteDuration.observe((performance.now() - t0) / 1000);
          health.storeHealthy = true;
        } catch (e) {
          health.storeHealthy = false;
          for (const u of undo.reverse()) projection.undo(u);
          // The store's own message stays in the log: it is nobody's business outside.
          logger({ level: 'error', msg: 'the log could not be written', error: (e as Error).message, submissions: group.length });
          for (const p of group) p.reject(new ZkTrustError('unavailable', 'the log could not be written; retry later', { retryAfterS: 5 }));
          continue;
        }
        for (const p of group) ledger.added(p.record);
        metrics.recordsAccepted += added;
        metrics.logWrites++;
        telemetry?.recordsAccepted.inc(added);
        telemetry?.logWrites.inc();
        this.deps.onAppended();
        const treeHead = this.treeHeadBody();
        for (const p of group) {
          const r = p.record;
          p.resolve(this.parts.signed<ReceiptBody>('receipt', { org: r.org, firstIndex: r.firstIndex, count: r.commitments.length, treeHead, deadline: r.acceptedAt + config.receiptDeadlineMs }));
        }
      }
    } finally {
      this.appending = false;
    }
  }

  // ---- log reads ----

  private treeHeadBody(): TreeHeadBody {
    const { ledger } = this.deps;
    return { size: ledger.size, root: hex(ledger.log.root()), timestamp: Date.now() };
  }

  /** The signed tree head of the whole log. */
  treeHead(): Signed<TreeHeadBody> {
    return this.parts.signed('tree-head', this.treeHeadBody());
  }

  /** Public log entries [start, end): commitment, org, orgIndex, submission id (never openings). */
  async logEntries(start: number, end: number): Promise<LogEntry[]> {
    const { ledger } = this.deps;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > ledger.size) throw new ZkTrustError('out_of_range', 'invalid entry range');
    if (end - start > 1000) throw new ZkTrustError('out_of_range', 'at most 1000 entries per request');
    return ledger.entries(start, end);
  }

  /** The signed submission (org signature included) an entry came from. */
  async submission(id: string): Promise<unknown> {
    const s = await this.deps.ledger.submission(id);
    if (!s) throw new ZkTrustError('not_found', 'no such submission');
    return s;
  }

  inclusionProof(index: number, size: number): { index: number; size: number; leafHash: string; path: string[] } {
    const { log } = this.deps.ledger;
    try {
      return { index, size, leafHash: hex(log.leaf(index)), path: log.inclusionProof(index, size).map(hex) };
    } catch (e) {
      throw new ZkTrustError('out_of_range', (e as Error).message);
    }
  }

  consistencyProof(first: number, second: number): { first: number; second: number; proof: string[] } {
    try {
      return { first, second, proof: this.deps.ledger.log.consistencyProof(first, second).map(hex) };
    } catch (e) {
      throw new ZkTrustError('out_of_range', (e as Error).message);
    }
  }
}
