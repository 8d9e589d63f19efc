/**
 * Snapshots on disk: `<data dir>/snapshots/state-<sequence>.snap`, the committed state right
 * after the batch of that sequence (src/state/snapshot.ts for the format), and
 * `ledger-<size>.bin`, the log's in-memory index at that size (ledger-snapshot.ts). Written
 * atomically (temporary file, fsync, rename, fsync of the folder); the newest two are kept.
 * A snapshot only shortens recovery: the aggregator checks it against the signed checkpoint
 * of its sequence and falls back to an older one, or to the log from genesis, when it does
 * not match.
 * @module
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

const KEEP = 2;

export class SnapshotDir {
  private readonly name: RegExp;

  /** The snapshots `<kind>-<number>.<ext>` in `dir`. */
  constructor(
    private readonly dir: string,
    private readonly kind = 'state',
    private readonly ext = 'snap',
  ) {
    this.name = new RegExp(`^${kind}-(\\d{16})\\.${ext}$`);
  }

  private path(sequence: number): string {
    return join(this.dir, `${this.kind}-${sequence.toString().padStart(16, '0')}.${this.ext}`);
  }

  /** The numbers (sequences, sizes) of the snapshots present, newest first. */
  async list(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    return names.flatMap((n) => (this.name.test(n) ? [Number(this.name.exec(n)![1])] : [])).sort((a, b) => b - a);
  }

  async read(sequence: number): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.path(sequence)));
  }

  /**
   * Writes the snapshot of `sequence` durably (its bytes, or the pieces they are made of,
   * written one after the other), then removes all but the newest KEEP.
   */
  async write(sequence: number, bytes: Uint8Array | Iterable<Uint8Array>): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const target = this.path(sequence);
    const tmp = `${target}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      for (const piece of bytes instanceof Uint8Array ? [bytes] : bytes) await fh.writeFile(piece);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
    const dir = await open(this.dir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    for (const old of (await this.list()).slice(KEEP)) await rm(this.path(old), { force: true });
  }
}
