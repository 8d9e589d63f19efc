/**
 * Growable typed arrays for states of a million agents: `WordArray` holds unsigned integers of
 * a fixed number of 64-bit words each (a field element: 4), `IndexArray` 32-bit positions.
 *
 * Why: a field element as a bigint is a heap object of 48 bytes behind an 8-byte pointer, and
 * a Map entry adds about 40 more; here it takes its 32 bytes and nothing else, and a copy of a
 * whole array is one memcpy (`npm run bench -- --only state`). Words are held in the
 * platform's byte order, least significant word first; `halves` views the same memory as 32-bit
 * numbers, for comparing and hashing without making bigints. Arrays grow as grow.ts says.
 * Pure: no I/O.
 * @module
 */
import { withRoom } from './grow.ts';

const SHIFTS = [0n, 64n, 128n, 192n];

/** Unsigned integers of `width` 64-bit words each, in one growable BigUint64Array. */
export class WordArray {
  private data: BigUint64Array;
  private view: Uint32Array;
  private count = 0;

  /** @throws RangeError unless width is 1 to 4. */
  constructor(readonly width: number, capacity = 0) {
    if (!Number.isInteger(width) || width < 1 || width > 4) throw new RangeError('width must be 1 to 4 words');
    this.data = new BigUint64Array(capacity * width);
    this.view = new Uint32Array(this.data.buffer);
  }

  /** An array over `words` (taken over, not copied): words.length / width elements. */
  static adopt(width: number, words: BigUint64Array): WordArray {
    const a = new WordArray(width);
    a.data = words;
    a.view = new Uint32Array(words.buffer, words.byteOffset, 2 * words.length);
    a.count = words.length / width;
    return a;
  }

  get length(): number {
    return this.count;
  }

  /** The element at `i` (no bounds check: the caller keeps i < length). */
  get(i: number): bigint {
    const d = this.data;
    const o = i * this.width;
    let x = d[o + this.width - 1]!;
    for (let k = this.width - 2; k >= 0; k--) x = (x << 64n) | d[o + k]!;
    return x;
  }

  /** Sets the element at `i` < length to `x`, which must fit the width (higher bits are lost). */
  set(i: number, x: bigint): void {
    const d = this.data;
    const o = i * this.width;
    d[o] = x;
    for (let k = 1; k < this.width; k++) d[o + k] = x >> SHIFTS[k]!;
  }

  /** Appends `x`. @returns its index. */
  push(x: bigint): number {
    if ((this.count + 1) * this.width > this.data.length) this.reserve(this.count + 1);
    this.set(this.count, x);
    return this.count++;
  }

  /** Drops the elements from `length` on. */
  truncate(length: number): void {
    this.count = Math.min(this.count, length);
  }

  private reserve(elements: number): void {
    this.data = withRoom(this.data, elements * this.width);
    this.view = new Uint32Array(this.data.buffer);
  }

  /** The elements as 32-bit halves, least significant first (a view: valid until the next push). */
  get halves(): Uint32Array {
    return this.view;
  }

  /** The elements' words (a view: valid until the next push). */
  words(): BigUint64Array {
    return this.data.subarray(0, this.count * this.width);
  }

  /** An independent copy with the same room. */
  clone(): WordArray {
    const c = new WordArray(this.width, this.data.length / this.width);
    c.data.set(this.words());
    c.count = this.count;
    return c;
  }
}

/** 32-bit unsigned integers (positions) in one growable Uint32Array. */
export class IndexArray {
  private data: Uint32Array;
  private count = 0;

  constructor(capacity = 0) {
    this.data = new Uint32Array(capacity);
  }

  /** An array over `values` (taken over, not copied). */
  static adopt(values: Uint32Array): IndexArray {
    const a = new IndexArray();
    a.data = values;
    a.count = values.length;
    return a;
  }

  get length(): number {
    return this.count;
  }

  /** The value at `i` (no bounds check: the caller keeps i < length). */
  get(i: number): number {
    return this.data[i]!;
  }

  set(i: number, x: number): void {
    this.data[i] = x;
  }

  /** Appends `x`. @returns its index. */
  push(x: number): number {
    return this.insert(this.count, x);
  }

  /** Inserts `x` at `i` <= length, moving the values from i on up by one. @returns i. */
  insert(i: number, x: number): number {
    this.data = withRoom(this.data, this.count + 1);
    this.data.copyWithin(i + 1, i, this.count);
    this.data[i] = x;
    this.count++;
    return i;
  }

  /** Drops the values from `length` on. */
  truncate(length: number): void {
    this.count = Math.min(this.count, length);
  }

  /** The values (a view: valid until the next insert). */
  values(): Uint32Array {
    return this.data.subarray(0, this.count);
  }

  /** An independent copy with the same room. */
  clone(): IndexArray {
    const c = new IndexArray(this.data.length);
    c.data.set(this.values());
    c.count = this.count;
    return c;
  }
}
