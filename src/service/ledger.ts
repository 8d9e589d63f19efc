/**
 * The log's persistent form and its in-memory index. A submission is the unit of storage:
 * one accepted submission is two puts in one synced LevelDB batch, whatever its size:
 *
 *   submissions/<first index>    -> the public submission: org, nonce, timestamp, the signed
 *                                   commitments, the organisation's signature, orgIndex, time
 *   openings/<first index>       -> the openings, in order (private: the prover's witness)
 *
 * Log entry i is commitment i - firstIndex of the submission that holds it; entries are
 * derived, never stored twice, so what the log serves is always what the organisation
 * signed. On open, the in-memory index and the tree come from the newest snapshot
 * (ledger-snapshot.ts) that matches the store, and every submission stored after it is read,
 * in log order; without one, every stored submission is: so a nonce stays used across
 * restarts.
 *
 * Memory layout: only what the hot paths need stays in memory, in typed arrays.
 *   - The RFC 9162 tree (log/merkle-log.ts): 64 bytes an entry.
 *   - Per submission, in log order: its first index and acceptance time (Float64Array) and its
 *     orgIndex (Uint32Array): 20 bytes; the organisation's DID is found from its orgIndex (the
 *     registry index, one per organisation) in a small map.
 *   - The replay guard and the lookup by id: the submission ids in an IdIndex
 *     (log/id-index.ts), numbered like the submissions: 24 to 32 bytes a submission.
 * Commitments, signatures and nonces stay on disk: the public entries and submissions are read
 * from the store when they are asked for. Measured with 3,000,000 entries in submissions of 1
 * to 3 records: keeping every SubmissionRecord, a Map of the ids and a Uint8Array per tree
 * hash took 890 bytes of heap an entry (2.8 GB of anonymous RSS after a restart); this layout
 * takes 87 bytes an entry in use, 120 allocated while arrays double (380 MB of anonymous RSS
 * after a restart, which took 39 s against 50).
 * @module
 */
import { createHash } from 'node:crypto';
import { ZkTrustError } from '../errors.ts';
import { withRoom } from '../crypto/grow.ts';
import { IdIndex } from '../log/id-index.ts';
import { MerkleLog } from '../log/merkle-log.ts';
import { Store, numKey, type Op } from '../store/db.ts';
import { decodeLedgerSnapshot, encodeLedgerSnapshot, type LedgerParts } from './ledger-snapshot.ts';
import type { SnapshotDir } from './snapshots.ts';

/** What the log stores of one accepted submission (public). */
export interface SubmissionRecord {
  org: string;
  nonce: string;
  timestamp: number;
  commitments: string[];
  signature: string;
  firstIndex: number;
  orgIndex: number;
  acceptedAt: number;
}

/** One record's opening as stored (the agent as its DID). */
export interface StoredOpening {
  agent: string;
  epoch: number;
  kept: number;
  broken: number;
  violations: number;
  scope: number;
  salt: string;
}

/** A public log entry. */
export interface LogEntry {
  index: number;
  commitment: string;
  org: string;
  orgIndex: number;
  submission: string;
}

/** The storage format this code reads and writes (meta/format). */
export const LEDGER_FORMAT = 3;

/** The id of a submission: its organisation and nonce. */
export const submissionId = (org: string, nonce: string) => `${org}/${nonce}`;

const LEAF_PREFIX = Buffer.from([0]);

/**
 * The log leaf of an entry: RFC 9162's leaf hash of the entry's canonical JSON (keys sorted,
 * as canonicalJson writes them; a unit test checks that this equals
 * leafHash(canonicalJson(entry)), which audit recomputes), with node:crypto's SHA-256 on the
 * ingestion path.
 */
export function entryLeaf(e: Omit<LogEntry, 'index'>): Uint8Array {
  const json = `{"commitment":${JSON.stringify(e.commitment)},"org":${JSON.stringify(e.org)},"orgIndex":${JSON.stringify(e.orgIndex)},"submission":${JSON.stringify(e.submission)}}`;
  return new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(json).digest());
}

// Entry i of the log, which submission `s` holds.
const entryOf = (s: SubmissionRecord, i: number): LogEntry => ({
  index: i, commitment: s.commitments[i - s.firstIndex]!, org: s.org, orgIndex: s.orgIndex, submission: submissionId(s.org, s.nonce),
});

// Refuses a store of another format; marks an empty one as this format.
async function checkFormat(store: Store): Promise<void> {
  const format = await store.get<number>('meta', 'format');
  if (format === undefined) {
    for await (const _ of store.range('entries', { limit: 1 })) {
      throw new ZkTrustError('internal', 'this data directory was written by an older zktrust (per-entry layout); start with an empty ZKTRUST_DATA_DIR');
    }
    await store.write([{ type: 'put', sub: 'meta', key: 'format', value: LEDGER_FORMAT }]);
  } else if (format !== LEDGER_FORMAT) {
    throw new ZkTrustError('internal', `the data directory has storage format ${format}; this zktrust reads format ${LEDGER_FORMAT}`);
  }
}

/** Who made a log entry (what the in-memory index knows without the store). */
export type EntrySource = Pick<LogEntry, 'index' | 'org' | 'orgIndex'>;

/** Where Ledger.open finds snapshots (and saveSnapshot writes them), and where it says which it skipped. */
export interface LedgerOptions {
  snapshots?: SnapshotDir;
  logger?: (entry: Record<string, unknown>) => void;
}

const EMPTY: LedgerParts = { firstIndexes: new Float64Array(0), acceptedAts: new Float64Array(0), orgIndexes: new Uint32Array(0), digests: new Uint32Array(0), levels: [new Uint8Array(0)], orgs: [] };

export class Ledger {
  readonly log: MerkleLog;
  // Submission ids, numbered by position in the log: submission n is ids' number n.
  private readonly ids: IdIndex;
  private firstIndexes: Float64Array;
  private acceptedAts: Float64Array;
  private orgIndexes: Uint32Array;
  private readonly orgDids: Map<number, string>;
  private readonly openingsCache = new Map<number, StoredOpening[]>();

  // The ledger of the parts (kept, not copied). @throws RangeError if they do not fit together.
  private constructor(
    private readonly store: Store,
    private readonly snapshots: SnapshotDir | undefined,
    p: LedgerParts,
  ) {
    this.log = MerkleLog.fromLevels(p.levels);
    this.ids = IdIndex.fromDigests(p.digests);
    this.firstIndexes = p.firstIndexes;
    this.acceptedAts = p.acceptedAts;
    this.orgIndexes = p.orgIndexes;
    this.orgDids = new Map(p.orgs);
  }

  /**
   * Restores the newest snapshot that matches the store (or starts empty), then loads every
   * submission stored after it, in log order.
   * @throws ZkTrustError('internal') for a store of another format or with a gap in the log.
   */
  static async open(store: Store, opts: LedgerOptions = {}): Promise<Ledger> {
    await checkFormat(store);
    const ledger = (await Ledger.restore(store, opts)) ?? new Ledger(store, opts.snapshots, EMPTY);
    for await (const [key, s] of store.range<SubmissionRecord>('submissions', { gte: numKey(ledger.size) })) {
      if (s.firstIndex !== ledger.size) throw new ZkTrustError('internal', `the log has a gap before submission ${key}`);
      ledger.add(s);
    }
    return ledger;
  }

  // The newest snapshot that decodes and matches the store; the others are logged and skipped.
  private static async restore(store: Store, { snapshots, logger = () => {} }: LedgerOptions): Promise<Ledger | undefined> {
    for (const size of (await snapshots?.list()) ?? []) {
      try {
        const ledger = new Ledger(store, snapshots, decodeLedgerSnapshot(await snapshots!.read(size)));
        if (ledger.size !== size) throw new RangeError(`it holds ${ledger.size} entries`);
        await ledger.assertStored();
        return ledger;
      } catch (e) {
        logger({ msg: 'ledger snapshot skipped', size, reason: (e as Error).message });
      }
    }
    return undefined;
  }

  // Throws unless the store holds the last submission as this ledger has it: its first index,
  // id, time, organisation and leaves (so a snapshot of another store, or of a longer log, fails).
  private async assertStored(): Promise<void> {
    const n = this.ids.size - 1;
    if (n < 0) return;
    const first = this.firstIndexes[n]!;
    const s = await this.store.get<SubmissionRecord>('submissions', numKey(first));
    const id = s && submissionId(s.org, s.nonce);
    const same = s && s.firstIndex === first && first + s.commitments.length === this.size && this.ids.find(id!) === n && s.acceptedAt === this.acceptedAts[n] && s.orgIndex === this.orgIndexes[n] && s.org === this.orgDids.get(s.orgIndex);
    if (!same || s.commitments.some((commitment, j) => !Buffer.from(this.log.leaf(first + j)).equals(entryLeaf({ commitment, org: s.org, orgIndex: s.orgIndex, submission: id! })))) {
      throw new RangeError(`the store does not hold its last submission (at ${first})`);
    }
  }

  /**
   * A snapshot of the ledger as it is now, in pieces (ledger-snapshot.ts): views of its
   * append-only arrays, so later appends leave it unchanged.
   */
  snapshot(): Iterable<Uint8Array> {
    const n = this.ids.size;
    return encodeLedgerSnapshot({
      firstIndexes: this.firstIndexes.subarray(0, n), acceptedAts: this.acceptedAts.subarray(0, n), orgIndexes: this.orgIndexes.subarray(0, n),
      digests: this.ids.digestWords(), levels: this.log.levelViews(), orgs: [...this.orgDids],
    });
  }

  /** Writes a snapshot of the ledger as it is now to the snapshots given to open (if any). */
  async saveSnapshot(): Promise<void> {
    await this.snapshots?.write(this.size, this.snapshot());
  }

  /** Number of entries. */
  get size(): number {
    return this.log.size;
  }

  /** Whether the organisation already used this nonce in an appended submission. */
  nonceUsed(org: string, nonce: string): boolean {
    return this.ids.find(submissionId(org, nonce)) >= 0;
  }

  /**
   * The operations that append a submission; write them in one synced batch (with anything
   * else that must be atomic with it), then call `added` in log order, which checks that
   * the first indexes are dense.
   */
  appendOps(s: SubmissionRecord, openings: StoredOpening[]): Op[] {
    if (openings.length !== s.commitments.length) throw new ZkTrustError('internal', 'one opening per commitment');
    const key = numKey(s.firstIndex);
    return [
      { type: 'put', sub: 'submissions', key, value: s },
      { type: 'put', sub: 'openings', key, value: openings },
    ];
  }

  /** Records in memory a submission whose operations are on disk (in log order). */
  added(s: SubmissionRecord): void {
    if (s.firstIndex !== this.size) throw new ZkTrustError('internal', 'appends must be sequential');
    this.add(s);
  }

  private add(s: SubmissionRecord): void {
    const id = submissionId(s.org, s.nonce);
    const known = this.orgDids.get(s.orgIndex);
    if (known !== undefined && known !== s.org) throw new ZkTrustError('internal', `orgIndex ${s.orgIndex} names both ${known} and ${s.org}`);
    const n = this.ids.size;
    if (!this.ids.add(id)) throw new ZkTrustError('internal', `submission ${id} appears twice in the log`);
    this.orgDids.set(s.orgIndex, s.org);
    this.firstIndexes = withRoom(this.firstIndexes, n + 1);
    this.acceptedAts = withRoom(this.acceptedAts, n + 1);
    this.orgIndexes = withRoom(this.orgIndexes, n + 1);
    this.firstIndexes[n] = s.firstIndex;
    this.acceptedAts[n] = s.acceptedAt;
    this.orgIndexes[n] = s.orgIndex;
    for (const commitment of s.commitments) this.log.append(entryLeaf({ commitment, org: s.org, orgIndex: s.orgIndex, submission: id }));
  }

  // The number of the submission holding entry i (binary search over first indexes).
  private holder(i: number): number {
    let lo = 0;
    let hi = this.ids.size - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.firstIndexes[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** The time entry i was accepted (epoch milliseconds). @throws RangeError outside the log. */
  acceptedAt(i: number): number {
    if (!Number.isSafeInteger(i) || i < 0 || i >= this.size) throw new RangeError(`no entry ${i}`);
    return this.acceptedAts[this.holder(i)]!;
  }

  // Entry i, of submission n: its organisation and registry index.
  private source(n: number, i: number): EntrySource {
    const orgIndex = this.orgIndexes[n]!;
    return { index: i, org: this.orgDids.get(orgIndex)!, orgIndex };
  }

  /**
   * The public entries [start, end), read from the store.
   * @throws RangeError unless 0 <= start <= end <= size.
   */
  async entries(start: number, end: number): Promise<LogEntry[]> {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > this.size) throw new RangeError(`no entries [${start}, ${end})`);
    const out: LogEntry[] = [];
    if (start === end) return out;
    const from = numKey(this.firstIndexes[this.holder(start)]!);
    for await (const [, s] of this.store.range<SubmissionRecord>('submissions', { gte: from, lt: numKey(end) })) {
      for (let i = Math.max(start, s.firstIndex); i < Math.min(end, s.firstIndex + s.commitments.length); i++) out.push(entryOf(s, i));
    }
    if (out.length !== end - start) throw new ZkTrustError('internal', `entries [${start}, ${end}) are missing from the store`);
    return out;
  }

  /** The public submission with this id, read from the store, or undefined. */
  async submission(id: string): Promise<Omit<SubmissionRecord, 'acceptedAt' | 'orgIndex'> | undefined> {
    const n = this.ids.find(id);
    if (n < 0) return undefined;
    const s = await this.store.get<SubmissionRecord>('submissions', numKey(this.firstIndexes[n]!));
    if (!s) throw new ZkTrustError('internal', `submission ${id} is missing from the store`);
    if (submissionId(s.org, s.nonce) !== id) return undefined;
    const { acceptedAt: _a, orgIndex: _o, ...pub } = s;
    return pub;
  }

  /**
   * Entries [from, to) with their openings, read from the store (a few submissions' openings
   * stay cached: consecutive batches read the same submission).
   */
  async openings(from: number, to: number): Promise<Array<{ entry: EntrySource; opening: StoredOpening }>> {
    const out: Array<{ entry: EntrySource; opening: StoredOpening }> = [];
    for (let i = from; i < to; i++) {
      const n = this.holder(i);
      const first = this.firstIndexes[n]!;
      let list = this.openingsCache.get(first);
      if (!list) {
        list = await this.store.get<StoredOpening[]>('openings', numKey(first));
        if (!list) throw new ZkTrustError('internal', `the openings of entry ${i} are missing`);
        if (this.openingsCache.size >= 4) this.openingsCache.delete(this.openingsCache.keys().next().value!);
        this.openingsCache.set(first, list);
      }
      out.push({ entry: this.source(n, i), opening: list[i - first]! });
    }
    return out;
  }
}
