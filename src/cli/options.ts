/**
 * Shared option handling of the CLI: the aggregator URL and admin token defaults
 * (ZKTRUST_URL, ZKTRUST_ADMIN_TOKEN, data/admin.token), number parsers that make a bad value
 * a usage error, secret keys from --key or --key-file, and JSON-lines files.
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidArgumentError } from 'commander';
import { UsageError } from './errors.ts';

/** The aggregator URL: ZKTRUST_URL, or the address `npm start` listens on. */
export const DEFAULT_URL = process.env.ZKTRUST_URL || 'http://127.0.0.1:8080';

/**
 * The admin token: `explicit` (--token), else ZKTRUST_ADMIN_TOKEN, else the file the service
 * writes on first start, `<ZKTRUST_DATA_DIR or ./data>/admin.token` from the working directory,
 * as the service resolves its data directory.
 * @throws UsageError if none of them is there.
 */
export async function adminToken(explicit?: string): Promise<string> {
  if (explicit) return explicit;
  if (process.env.ZKTRUST_ADMIN_TOKEN) return process.env.ZKTRUST_ADMIN_TOKEN;
  const file = resolve(process.env.ZKTRUST_DATA_DIR || 'data', 'admin.token');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  throw new UsageError(`an admin token is required: --token, ZKTRUST_ADMIN_TOKEN, or ${file} (written by the service on first start)`);
}

/**
 * A commander parser for a non-negative integer option; a bad value is a usage error.
 * @example .option('--min-score <n>', 'least score', integer)
 */
export function integer(value: string): number {
  if (!/^(0|[1-9][0-9]{0,14})$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer.');
  return Number(value);
}

/**
 * A secret key from --key (hex) or --key-file (the JSON that `keygen` prints).
 * @throws UsageError when neither gives 32 bytes of hex; Error if the file cannot be read.
 */
export async function secretKeyOf(o: { key?: string; keyFile?: string }): Promise<Uint8Array> {
  let hex = o.key;
  if (!hex && o.keyFile) {
    const text = await readFile(o.keyFile, 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new UsageError(`${o.keyFile}: not a key file made by keygen (invalid JSON)`);
    }
    hex = (parsed as { secretKey?: string } | null)?.secretKey;
    if (!hex) throw new UsageError(`${o.keyFile}: no secretKey (make one with zktrust keygen)`);
  }
  if (!hex || !/^[0-9a-f]{64}$/.test(hex)) throw new UsageError('a 32-byte secret key is required (--key <hex> or --key-file <keygen JSON>)');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

/**
 * The records of a JSON-lines file, one object per non-blank line.
 * @throws Error naming the file and line of the first line that is not a JSON object.
 */
export async function readJsonLines(file: string): Promise<unknown[]> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const out: unknown[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new Error(`${file}:${i + 1}: not valid JSON`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${file}:${i + 1}: not a JSON object`);
    out.push(v);
  }
  if (out.length === 0) throw new Error(`${file}: no records`);
  return out;
}
