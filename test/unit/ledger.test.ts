/**
 * The ledger's compact in-memory index against what it stores: entries, submissions, openings,
 * the replay guard, acceptance times and the tree, before and after a reopen, from the store
 * alone or from a snapshot and the submissions after it (a corrupted, foreign or too long
 * snapshot is skipped); the IdIndex it keeps submission ids in.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { IdIndex } from '../../src/log/id-index.ts';
import { MerkleLog } from '../../src/log/merkle-log.ts';
import { Ledger, entryLeaf, submissionId, type StoredOpening, type SubmissionRecord } from '../../src/service/ledger.ts';
import { SnapshotDir } from '../../src/service/snapshots.ts';
import { Store, numKey } from '../../src/store/db.ts';

const ORGS = ['did:key:z6MkOrgA', 'did:key:z6MkOrgB', 'did:key:z6MkOrgC'];

// Submission k: 1 to 3 records from organisation k % 3, appended at `first`.
function submission(k: number, first: number): { record: SubmissionRecord; openings: StoredOpening[] } {
  const count = 1 + (k % 3);
  const record: SubmissionRecord = {
    org: ORGS[k % 3]!, nonce: `${k}`.padStart(16, '0'), timestamp: 1_700_000_000 + k, commitments: Array.from({ length: count }, (_, j) => `${k * 10 + j}`),
    signature: 'ab'.repeat(64), firstIndex: first, orgIndex: k % 3, acceptedAt: 1_700_000_000_000 + k,
  };
  const openings = record.commitments.map((_, j) => ({ agent: `did:key:z6MkAgent${j}`, epoch: 20_000, kept: k, broken: j, violations: 0, scope: 0, salt: `${k}` }));
  return { record, openings };
}

describe('Ledger', () => {
  let dir: string;
  let store: Store;
  const records: SubmissionRecord[] = [];
  const opened: StoredOpening[][] = [];
  // A snapshot of the first 25 submissions (49 entries), as written.
  let snapshot: Buffer;
  const SNAPSHOT_SIZE = 49;

  // Appends submissions k in [from, to) to the ledger and, unless `inMemory`, the store.
  async function append(ledger: Ledger, from: number, to: number, inMemory = false): Promise<void> {
    for (let k = from; k < to; k++) {
      const { record, openings } = submission(k, ledger.size);
      if (!inMemory) await store.write(ledger.appendOps(record, openings));
      ledger.added(record);
      records.push(record);
      opened.push(openings);
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zktrust-ledger-'));
    store = await Store.open(join(dir, 'db'));
    const ledger = await Ledger.open(store);
    await append(ledger, 0, 25);
    const pieces = ledger.snapshot();
    await append(ledger, 25, 40);
    snapshot = Buffer.concat([...pieces]);
  });
  afterAll(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const entriesOf = (s: SubmissionRecord) => s.commitments.map((commitment, j) => ({ index: s.firstIndex + j, commitment, org: s.org, orgIndex: s.orgIndex, submission: submissionId(s.org, s.nonce) }));
  const allEntries = () => records.flatMap(entriesOf);

  async function expectServes(ledger: Ledger): Promise<void> {
    const entries = allEntries();
    expect(ledger.size).toBe(entries.length);
    const tree = new MerkleLog();
    for (const { index: _i, ...e } of entries) tree.append(entryLeaf(e));
    expect(ledger.log.root()).toEqual(tree.root());
    expect(await ledger.entries(0, entries.length)).toEqual(entries);
    expect(await ledger.entries(5, 6)).toEqual(entries.slice(5, 6));
    expect(await ledger.entries(7, 7)).toEqual([]);
    await expect(ledger.entries(0, entries.length + 1)).rejects.toThrow(RangeError);
    for (const s of records) {
      const { acceptedAt: _a, orgIndex: _o, ...pub } = s;
      expect(await ledger.submission(submissionId(s.org, s.nonce))).toEqual(pub);
      expect(ledger.nonceUsed(s.org, s.nonce)).toBe(true);
      expect(ledger.acceptedAt(s.firstIndex + s.commitments.length - 1)).toBe(s.acceptedAt);
    }
    expect(ledger.nonceUsed(ORGS[0]!, records[1]!.nonce)).toBe(false);
    expect(await ledger.submission(`${ORGS[0]}/nope`)).toBeUndefined();
    expect(() => ledger.acceptedAt(entries.length)).toThrow(RangeError);
    const withOpenings = await ledger.openings(3, 12);
    expect(withOpenings.map((o) => o.entry)).toEqual(entries.slice(3, 12).map(({ index, org, orgIndex }) => ({ index, org, orgIndex })));
    expect(withOpenings.map((o) => o.opening)).toEqual(opened.flat().slice(3, 12));
  }

  it('serves what it stored', async () => {
    const ledger = await Ledger.open(store);
    await expectServes(ledger);
  });

  // Opens the store with `files` (size -> bytes) as its ledger snapshots, noting the skipped ones.
  async function openWith(files: Array<[number, Uint8Array]>): Promise<{ ledger: Ledger; skipped: string[]; readFrom: string | undefined }> {
    const snapshots = new SnapshotDir(await mkdtemp(join(dir, 'snapshots-')), 'ledger', 'bin');
    for (const [size, bytes] of files) await snapshots.write(size, bytes);
    const skipped: string[] = [];
    const range = vi.spyOn(store, 'range');
    const ledger = await Ledger.open(store, { snapshots, logger: (e) => skipped.push(String(e.reason)) });
    const readFrom = (range.mock.calls.find(([sub]) => sub === 'submissions')?.[1] as { gte?: string } | undefined)?.gte;
    range.mockRestore();
    return { ledger, skipped, readFrom };
  }

  it('restores from a snapshot and reads only the submissions after it, as a full rebuild would', async () => {
    const { ledger, skipped, readFrom } = await openWith([[SNAPSHOT_SIZE, snapshot]]);
    expect(skipped).toEqual([]);
    expect(readFrom).toBe(numKey(SNAPSHOT_SIZE));
    await expectServes(ledger);
    const full = await Ledger.open(store);
    expect(ledger.log.levelViews()).toEqual(full.log.levelViews());
    for (const n of [1, 7, SNAPSHOT_SIZE, ledger.size]) {
      expect(ledger.log.root(n)).toEqual(full.log.root(n));
      for (const i of [0, n >> 1, n - 1]) expect(ledger.log.inclusionProof(i, n)).toEqual(full.log.inclusionProof(i, n));
      for (const m of [1, n >> 1 || 1, n]) expect(ledger.log.consistencyProof(m, n)).toEqual(full.log.consistencyProof(m, n));
    }
    for (let i = 0; i < ledger.size; i++) expect(ledger.acceptedAt(i)).toBe(full.acceptedAt(i));
    // It goes on appending as the full rebuild does, and snapshots again.
    const more = submission(200, ledger.size).record;
    ledger.added(more);
    full.added(more);
    expect(ledger.log.root()).toEqual(full.log.root());
    expect(ledger.nonceUsed(more.org, more.nonce)).toBe(true);
    expect(Buffer.concat([...ledger.snapshot()])).toEqual(Buffer.concat([...full.snapshot()]));
  });

  it('saves a snapshot of itself in pieces that a reopen restores', async () => {
    const snapshots = new SnapshotDir(await mkdtemp(join(dir, 'saved-')), 'ledger', 'bin');
    await (await Ledger.open(store, { snapshots })).saveSnapshot();
    const size = allEntries().length;
    expect(await snapshots.list()).toEqual([size]);
    const { ledger, skipped, readFrom } = await openWith([[size, await snapshots.read(size)]]);
    expect([skipped, readFrom]).toEqual([[], numKey(size)]);
    await expectServes(ledger);
  });

  // The snapshot's body edited, with a checksum that matches again.
  const resealed = (edit: (b: Buffer) => void) => {
    const body = Buffer.from(snapshot.subarray(0, -32));
    edit(body);
    return Buffer.concat([body, createHash('sha256').update(body).digest()]);
  };

  it('skips a corrupted, foreign or too long snapshot and rebuilds from the store', async () => {
    const flipped = Buffer.from(snapshot);
    flipped[flipped.length >> 1]! ^= 1;
    const foreign = await Ledger.open(store);
    // Not in this store: a log with other submissions, and one longer than the store's.
    const otherLedger = await foreignLedger();
    const other = Buffer.concat([...otherLedger.snapshot()]);
    await append(foreign, 40, 42, true);
    const longer = Buffer.concat([...foreign.snapshot()]);
    records.splice(-2);
    opened.splice(-2);
    const cases: Array<[number, Uint8Array, RegExp]> = [
      [SNAPSHOT_SIZE, flipped, /checksum/],
      [SNAPSHOT_SIZE, snapshot.subarray(0, -1), /checksum/],
      [SNAPSHOT_SIZE, snapshot.subarray(0, 40), /checksum|truncated/],
      [SNAPSHOT_SIZE, resealed((b) => b.writeUInt32LE(2, 4)), /version 2 is not 1/],
      [SNAPSHOT_SIZE, resealed((b) => (b[0] = 0)), /not a zktrust ledger snapshot/],
      [SNAPSHOT_SIZE, resealed((b) => b.writeUInt32LE(SNAPSHOT_SIZE + 1, 8)), /truncated|counts/],
      [SNAPSHOT_SIZE, resealed((b) => b.writeDoubleLE(7, 24 + 8)), /first index/],
      [SNAPSHOT_SIZE + 1, snapshot, /holds 49 entries/],
      [otherLedger.size, other, /does not hold its last submission/],
      [foreign.size, longer, /does not hold its last submission/],
    ];
    for (const [size, bytes, reason] of cases) {
      const { ledger, skipped, readFrom } = await openWith([[size, bytes]]);
      expect(skipped, String(reason)).toEqual([expect.stringMatching(reason)]);
      expect(readFrom).toBe(numKey(0));
      await expectServes(ledger);
    }
  });

  it('takes the newest snapshot that holds', async () => {
    const { ledger, skipped, readFrom } = await openWith([[SNAPSHOT_SIZE, snapshot], [records.length * 2, resealed((b) => (b[0] = 0))]]);
    expect(skipped).toEqual([expect.stringMatching(/not a zktrust/)]);
    expect(readFrom).toBe(numKey(SNAPSHOT_SIZE));
    await expectServes(ledger);
  });

  // A ledger of 25 other submissions (other nonces) in a store of its own.
  async function foreignLedger(): Promise<Ledger> {
    const other = await Store.open(join(dir, 'other-db'));
    const ledger = await Ledger.open(other);
    for (let k = 0; k < 25; k++) ledger.added(submission(k + 1000, ledger.size).record);
    await other.close();
    return ledger;
  }

  it('refuses a replayed id, a gap, and an orgIndex that names another organisation', async () => {
    const ledger = await Ledger.open(store);
    const replay = { ...records[3]!, firstIndex: ledger.size };
    expect(() => ledger.added(replay)).toThrow(/appears twice/);
    expect(() => ledger.added(submission(100, ledger.size + 1).record)).toThrow(/sequential/);
    const other = { ...submission(101, ledger.size).record, orgIndex: 0, org: ORGS[1]! };
    expect(() => ledger.added(other)).toThrow(/names both/);
    expect(ledger.size).toBe(allEntries().length);
  });
});

describe('IdIndex', () => {
  it('numbers strings in the order they were added, across growth', () => {
    const ids = new IdIndex();
    for (let k = 0; k < 5000; k++) expect(ids.add(`org/${k}`)).toBe(true);
    expect(ids.size).toBe(5000);
    for (let k = 0; k < 5000; k++) expect(ids.find(`org/${k}`)).toBe(k);
    expect(ids.find('org/5000')).toBe(-1);
    expect(ids.add('org/17')).toBe(false);
    expect(ids.size).toBe(5000);
    const copy = IdIndex.fromDigests(ids.digestWords().slice());
    for (let k = 0; k < 5000; k += 7) expect(copy.find(`org/${k}`)).toBe(k);
    expect(copy.add('org/5000')).toBe(true);
    const words = ids.digestWords();
    expect(() => IdIndex.fromDigests(Uint32Array.from([...words.subarray(0, 8), ...words.subarray(0, 4)]))).toThrow(/repeats/);
  });
});
