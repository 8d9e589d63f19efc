/**
 * The observatory's data, read from the API's JSON and shaped for the page: no DOM, no
 * network (test/integration/observatory.test.ts checks the page against the API).
 *
 * The API is this page's own origin, but its answers are read as untrusted JSON all the same:
 * a value of the wrong type is dropped, never rendered or computed with.
 * @module
 */

/** A finite number, or undefined. */
export const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
/** A string, or undefined. */
export const str = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
/** A plain object, or undefined. */
export const obj = (x: unknown): Record<string, unknown> | undefined => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined);

/** One checkpoint of GET /v1/checkpoints, as the page uses it. */
export interface Batch {
  sequence: number;
  /** When the checkpoint was signed (ms). */
  time: number;
  logSize: number;
  fromIndex: number;
  toIndex: number;
  firstAcceptedAt?: number;
  lastAcceptedAt?: number;
  keyMode: string;
  keySetHash: string;
  /** The signed checkpoint as served (its signature is checked in the browser). */
  signed: { body: Record<string, unknown>; signer: string; signature: string };
}

/** The well-formed entries of a GET /v1/checkpoints answer, in sequence order. */
export function readBatches(json: unknown): Batch[] {
  if (!Array.isArray(json)) return [];
  const out: Batch[] = [];
  for (const item of json) {
    const o = obj(item);
    const cp = obj(o?.checkpoint);
    const body = obj(cp?.body);
    const [sequence, time, logSize, fromIndex, toIndex] = [num(body?.sequence), num(body?.time), num(body?.logSize), num(o?.fromIndex), num(o?.toIndex)];
    const [signer, signature, keyMode, keySetHash] = [str(cp?.signer), str(cp?.signature), str(body?.keyMode), str(body?.keySetHash)];
    if (sequence === undefined || time === undefined || logSize === undefined || fromIndex === undefined || toIndex === undefined) continue;
    if (!body || signer === undefined || signature === undefined || keyMode === undefined || keySetHash === undefined) continue;
    out.push({ sequence, time, logSize, fromIndex, toIndex, firstAcceptedAt: num(o?.firstAcceptedAt), lastAcceptedAt: num(o?.lastAcceptedAt), keyMode, keySetHash, signed: { body, signer, signature } });
  }
  return out.sort((a, b) => a.sequence - b.sequence);
}

export interface Point {
  x: number;
  y: number;
}

/**
 * The log's growth: entries accepted over time (each batch's last entry at its acceptance,
 * then the current tree head) and entries proven over time (each checkpoint's log size at its
 * signing). The horizontal distance between the two is the proving lag.
 */
export function growth(batches: readonly Batch[], head?: { size: number; timestamp: number }): { accepted: Point[]; proven: Point[] } {
  const accepted: Point[] = [];
  const proven: Point[] = [];
  for (const b of batches) {
    if (b.lastAcceptedAt !== undefined) accepted.push({ x: b.lastAcceptedAt, y: b.toIndex });
    proven.push({ x: b.time, y: b.logSize });
  }
  // The head is the latest accepted point, unless the log is still empty.
  if (head && (head.size > 0 || batches.length > 0) && (accepted.length === 0 || head.size >= accepted.at(-1)!.y)) accepted.push({ x: head.timestamp, y: head.size });
  return { accepted, proven };
}

/** How long a batch's entries waited for its checkpoint, in seconds: its last entry and its first. */
export interface Lag {
  sequence: number;
  shortestS: number;
  longestS: number;
}

/** The proving lag of each batch that applied entries. */
export function lags(batches: readonly Batch[]): Lag[] {
  const out: Lag[] = [];
  for (const b of batches) {
    if (b.firstAcceptedAt === undefined || b.lastAcceptedAt === undefined) continue;
    out.push({ sequence: b.sequence, shortestS: Math.max(0, (b.time - b.lastAcceptedAt) / 1000), longestS: Math.max(0, (b.time - b.firstAcceptedAt) / 1000) });
  }
  return out;
}

/** The median of `xs` (undefined for none). */
export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1]! + sorted[m]!) / 2;
}

/** A duration in seconds, briefly: 0.42 s, 12.3 s, 4 min 5 s, 2 h 3 min (`digits` below a minute: 2 under 10 s, else 1). */
export function formatSeconds(s: number, digits?: number): string {
  if (s < 60) return `${s.toFixed(digits ?? (s < 10 ? 2 : 1))} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** A time (ms since the epoch) in UTC: 2026-11-30 12:34:56 UTC. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? 'an invalid time' : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A count with thousands separators: 12,345. */
export function formatCount(n: number): string {
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
