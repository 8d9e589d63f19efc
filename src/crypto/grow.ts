/**
 * Growth of the typed arrays the state and the log keep in memory (word-array.ts, the log's
 * merkle-log.ts and id-index.ts, the ledger's columns): capacity doubles, so n appends copy O(n) bytes in all. The new array is fresh zero
 * memory that the system maps in only as it is written, so the unused half costs address
 * space, not RSS. Pure: no I/O.
 * @module
 */

type Column = Uint8Array | Uint32Array | Float64Array | BigUint64Array;

/** `a` if it has room for `length` elements, else a copy with at least twice the room. */
export function withRoom<T extends Column>(a: T, length: number): T {
  if (length <= a.length) return a;
  const grown = new (a.constructor as new (n: number) => T)(Math.max(length, 2 * a.length, 16));
  (grown as Uint8Array).set(a as Uint8Array);
  return grown;
}
