/**
 * The log in memory and its restart (`npm run bench -- --only ledger [--entries N]`, default
 * 300,000): a real LevelDB filled with N synthetic entries (submissions of 1 to 3 records from
 * 8 organisations, as ingestion stores them), then Ledger.open reading every submission (the
 * baseline: what a restart without a ledger snapshot costs), the snapshot written, and
 * Ledger.open from it (in the same process, the first ledger dropped); both must give the same
 * root. Memory is what the open ledger adds (after a collection): its typed arrays (the
 * ledger proper), and the RSS (which also holds LevelDB's caches and the file pages it read).
 */
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ledger } from '../src/service/ledger.ts';
import { SnapshotDir } from '../src/service/snapshots.ts';
import { Store, type Op } from '../src/store/db.ts';

const BASE58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const did = () => 'did:key:z6Mk' + Array.from({ length: 44 }, () => BASE58[randomInt(58)]).join('');
const decimal = () => BigInt('0x' + randomBytes(31).toString('hex')).toString();

/** Writes `entries` synthetic entries into the store, as ingestion appends them. */
async function fill(store: Store, entries: number): Promise<void> {
  const orgs = Array.from({ length: 8 }, did);
  const agent = did();
  const writer = await Ledger.open(store);
  let ops: Op[] = [];
  for (let first = 0; first < entries; ) {
    const count = Math.min(entries - first, 1 + randomInt(3));
    const o = randomInt(orgs.length);
    const record = {
      org: orgs[o]!, nonce: randomBytes(16).toString('hex'), timestamp: Math.floor(Date.now() / 1000), commitments: Array.from({ length: count }, decimal),
      signature: randomBytes(64).toString('hex'), firstIndex: first, orgIndex: o, acceptedAt: Date.now(),
    };
    ops.push(...writer.appendOps(record, Array.from({ length: count }, () => ({ agent, epoch: 20_000, kept: 3, broken: 1, violations: 0, scope: 0, salt: decimal() }))));
    first += count;
    if (ops.length >= 2000) {
      await store.write(ops);
      ops = [];
    }
  }
  if (ops.length > 0) await store.write(ops);
}

function memory(): { rss: number; arrays: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rss: m.rss, arrays: m.arrayBuffers };
}

/** Opens the ledger; returns it, the seconds taken (with its root) and what it added to memory. */
async function timedOpen(store: Store, snapshots: SnapshotDir) {
  const before = memory();
  const t0 = performance.now();
  const ledger = await Ledger.open(store, { snapshots });
  const root = Buffer.from(ledger.log.root()).toString('hex');
  const seconds = (performance.now() - t0) / 1000;
  const after = memory();
  return { size: ledger.size, save: () => ledger.saveSnapshot(), root, seconds, rss: after.rss - before.rss, arrays: after.arrays - before.arrays };
}

export async function benchLedger(entries: number, line: (s: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'zktrust-bench-ledger-'));
  try {
    let store = await Store.open(join(dir, 'db'));
    const t0 = performance.now();
    await fill(store, entries);
    await store.close();
    line(`\n## The log at ${entries.toLocaleString('en')} entries (a real LevelDB, filled in ${((performance.now() - t0) / 1000).toFixed(0)} s)${(globalThis as { gc?: unknown }).gc ? '' : '; without --expose-gc the memory figures include garbage'}`);
    line('open | seconds | typed arrays added | per entry | RSS added | per entry');
    const snapshots = new SnapshotDir(join(dir, 'snapshots'), 'ledger', 'bin');
    store = await Store.open(join(dir, 'db'));
    // No snapshot yet: every submission is read.
    let full: Awaited<ReturnType<typeof timedOpen>> | undefined = await timedOpen(store, snapshots);
    const per = (b: number) => `${(b / entries).toFixed(0)} B`;
    const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
    const row = (name: string, r: typeof full) => line(`${name} | ${r!.seconds.toFixed(2)} | ${mib(r!.arrays)} | ${per(r!.arrays)} | ${mib(r!.rss)} | ${per(r!.rss)}`);
    row('every submission read and hashed (baseline)', full);
    const t1 = performance.now();
    await full.save();
    const writeS = (performance.now() - t1) / 1000;
    const [file] = await readdir(join(dir, 'snapshots'));
    const size = (await stat(join(dir, 'snapshots', file!))).size;
    await store.close();
    const { root, size: count, seconds } = full;
    full = undefined;
    store = await Store.open(join(dir, 'db'));
    const fast = await timedOpen(store, snapshots);
    await store.close();
    if (fast.root !== root || fast.size !== count) throw new Error('the ledger restored from its snapshot is not the one rebuilt');
    row('from the snapshot', fast);
    line(`snapshot: ${mib(size)} (${per(size)}), written in ${writeS.toFixed(1)} s; the restart from it ${(seconds / fast.seconds).toFixed(1)} times as fast as the baseline, the same root`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
