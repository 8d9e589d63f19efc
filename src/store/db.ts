/**
 * The embedded store: one LevelDB (classic-level through `level`), the only module that
 * imports it. Values are JSON; numeric keys are zero-padded so that they sort. Every write
 * that acknowledges something to a client is one atomic batch synced to disk (`sync: true`)
 * before the reply.
 * @module
 */
import { Level } from 'level';

// 'entries' only to recognise (and refuse) the per-entry layout of storage format 1.
export const SUBLEVELS = ['meta', 'orgs', 'submissions', 'openings', 'batches', 'keysets', 'ceremony', 'entries'] as const;
export type SublevelName = (typeof SUBLEVELS)[number];

export type Op = { type: 'put'; sub: SublevelName; key: string; value: unknown } | { type: 'del'; sub: SublevelName; key: string };

/** A zero-padded key for a non-negative integer, so that keys sort numerically. */
export function numKey(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('key must be a non-negative integer');
  return n.toString().padStart(16, '0');
}

export class Store {
  private readonly db: Level<string, unknown>;
  private readonly subs: Record<SublevelName, ReturnType<Level<string, unknown>['sublevel']>>;

  private constructor(db: Level<string, unknown>) {
    this.db = db;
    this.subs = Object.fromEntries(SUBLEVELS.map((n) => [n, db.sublevel<string, unknown>(n, { valueEncoding: 'json' })])) as never;
  }

  /** Opens (creating if needed) the store at `path`. */
  static async open(path: string): Promise<Store> {
    const db = new Level<string, unknown>(path, { valueEncoding: 'json' });
    await db.open();
    return new Store(db);
  }

  /** The value at `key`, or undefined. */
  async get<T>(sub: SublevelName, key: string): Promise<T | undefined> {
    return (await this.subs[sub].get(key)) as T | undefined;
  }

  /** Writes all `ops` atomically, synced to disk before it resolves. */
  async write(ops: readonly Op[]): Promise<void> {
    await this.db.batch(
      ops.map((o) => (o.type === 'put' ? { type: 'put' as const, sublevel: this.subs[o.sub], key: o.key, value: o.value } : { type: 'del' as const, sublevel: this.subs[o.sub], key: o.key })) as never,
      { sync: true } as never,
    );
  }

  /** Entries of a sublevel in key order, optionally bounded (gt or gte, lt). */
  async *range<T>(sub: SublevelName, opts: { gt?: string; gte?: string; lt?: string; limit?: number } = {}): AsyncGenerator<[string, T]> {
    for await (const [k, v] of this.subs[sub].iterator({ ...opts })) yield [k, v as T];
  }

  /** The entry with the largest key of a sublevel, or undefined if it is empty. */
  async last<T>(sub: SublevelName): Promise<[string, T] | undefined> {
    for await (const [k, v] of this.subs[sub].iterator({ reverse: true, limit: 1 })) return [k as string, v as T];
    return undefined;
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
