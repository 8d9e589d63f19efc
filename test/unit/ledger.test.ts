/**
 * The ledger's compact in-memory index against what it stores: entries, submissions, openings,
 * the replay guard, acceptance times and the tree, before and after a reopen; the IdIndex it
 * keeps submission ids in.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdIndex } from '../../src/log/id-index.ts';
import { MerkleLog } from '../../src/log/merkle-log.ts';
import { Ledger, entryLeaf, submissionId, type StoredOpening, type SubmissionRecord } from '../../src/service/ledger.ts';
import { Store } from '../../src/store/db.ts';

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

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zktrust-ledger-'));
    store = await Store.open(join(dir, 'db'));
    const ledger = await Ledger.open(store);
    for (let k = 0; k < 40; k++) {
      const { record, openings } = submission(k, ledger.size);
      await store.write(ledger.appendOps(record, openings));
      ledger.added(record);
      records.push(record);
      opened.push(openings);
    }
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
  });
});
