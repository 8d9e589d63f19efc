/**
 * The log's persistent form and its in-memory index. A submission is the unit of storage:
 * one accepted submission is two puts in one synced LevelDB batch, whatever its size:
 *
 *   submissions/<first index>    -> the public submission: org, nonce, timestamp, the signed
 *                                   commitments, the organisation's signature, orgIndex, time
 *   openings/<first index>       -> the openings, in order (private: the prover's witness)
 *
 * The replay guard is the index of submissions by <org>/<nonce>, rebuilt from the stored
 * submissions on open, so a nonce stays used across restarts.
 *
 * Log entry i is commitment i - firstIndex of the submission that holds it; entries are
 * derived, never stored twice, so what the log serves is always what the organisation
 * signed. The RFC 9162 tree over the entries is rebuilt in memory on open.
 * @module
 */
import { createHash } from 'node:crypto';
import { ZkTrustError } from '../errors.ts';
import { MerkleLog } from '../log/merkle-log.ts';
import { Store, numKey, type Op } from '../store/db.ts';

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

export class Ledger {
  readonly log = new MerkleLog();
  private readonly subs: SubmissionRecord[] = [];
  private readonly firstIndexes: number[] = [];
  // Submission id -> submission: the replay guard and the lookup by id.
  private readonly ids = new Map<string, SubmissionRecord>();
  private readonly openingsCache = new Map<number, StoredOpening[]>();

  private constructor(private readonly store: Store) {}

  /**
   * Loads every submission in log order and rebuilds the tree.
   * @param onOpenings called with each submission's openings in order (for totals kept in memory).
   * @throws ZkTrustError('internal') for a store of another format or with a gap in the log.
   */
  static async open(store: Store, onOpenings?: (s: SubmissionRecord, openings: StoredOpening[]) => void): Promise<Ledger> {
    const format = await store.get<number>('meta', 'format');
    if (format === undefined) {
      for await (const _ of store.range('entries', { limit: 1 })) {
        throw new ZkTrustError('internal', 'this data directory was written by an older zktrust (per-entry layout); start with an empty ZKTRUST_DATA_DIR');
      }
      await store.write([{ type: 'put', sub: 'meta', key: 'format', value: LEDGER_FORMAT }]);
    } else if (format !== LEDGER_FORMAT) {
      throw new ZkTrustError('internal', `the data directory has storage format ${format}; this zktrust reads format ${LEDGER_FORMAT}`);
    }
    const ledger = new Ledger(store);
    for await (const [key, s] of store.range<SubmissionRecord>('submissions')) {
      if (s.firstIndex !== ledger.size) throw new ZkTrustError('internal', `the log has a gap before submission ${key}`);
      if (onOpenings) {
        const openings = await store.get<StoredOpening[]>('openings', key);
        if (!openings || openings.length !== s.commitments.length) throw new ZkTrustError('internal', `the openings of submission ${key} are missing`);
        onOpenings(s, openings);
      }
      ledger.add(s);
    }
    return ledger;
  }

  /** Number of entries. */
  get size(): number {
    return this.log.size;
  }

  /** Whether the organisation already used this nonce in an appended submission. */
  nonceUsed(org: string, nonce: string): boolean {
    return this.ids.has(submissionId(org, nonce));
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
    if (this.ids.has(id)) throw new ZkTrustError('internal', `submission ${id} appears twice in the log`);
    this.ids.set(id, s);
    this.subs.push(s);
    this.firstIndexes.push(s.firstIndex);
    for (const commitment of s.commitments) this.log.append(entryLeaf({ commitment, org: s.org, orgIndex: s.orgIndex, submission: id }));
  }

  // The submission holding entry i (binary search over first indexes).
  private holder(i: number): SubmissionRecord {
    let lo = 0;
    let hi = this.firstIndexes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.firstIndexes[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return this.subs[lo]!;
  }

  /** Entry i with the time it was accepted. @throws RangeError outside the log. */
  entry(i: number): LogEntry & { acceptedAt: number } {
    if (!Number.isSafeInteger(i) || i < 0 || i >= this.size) throw new RangeError(`no entry ${i}`);
    const s = this.holder(i);
    return { ...entryOf(s, i), acceptedAt: s.acceptedAt };
  }

  /** The public submission with this id, or undefined. */
  submission(id: string): Omit<SubmissionRecord, 'acceptedAt' | 'orgIndex'> | undefined {
    const s = this.ids.get(id);
    if (!s) return undefined;
    const { acceptedAt: _a, orgIndex: _o, ...pub } = s;
    return pub;
  }

  /**
   * Entries [from, to) with their openings, read from the store (a few submissions' openings
   * stay cached: consecutive batches read the same submission).
   */
  async openings(from: number, to: number): Promise<Array<{ entry: LogEntry; opening: StoredOpening }>> {
    const out: Array<{ entry: LogEntry; opening: StoredOpening }> = [];
    for (let i = from; i < to; i++) {
      const s = this.holder(i);
      let list = this.openingsCache.get(s.firstIndex);
      if (!list) {
        list = await this.store.get<StoredOpening[]>('openings', numKey(s.firstIndex));
        if (!list) throw new ZkTrustError('internal', `the openings of entry ${i} are missing`);
        if (this.openingsCache.size >= 4) this.openingsCache.delete(this.openingsCache.keys().next().value!);
        this.openingsCache.set(s.firstIndex, list);
      }
      out.push({ entry: entryOf(s, i), opening: list[i - s.firstIndex]! });
    }
    return out;
  }
}
