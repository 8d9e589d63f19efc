/**
 * A set of field elements (agents), each numbered by the order it was added in: the keys in a
 * WordArray (32 bytes each) and an open-addressing hash table of their numbers in a Uint32Array
 * (linear probing, at most 5/8 full: 4 to 8 bytes a key), where a Map<bigint, number> takes
 * about 100 bytes an entry (300,000 field elements). Agents are Poseidon outputs, but
 * the hash mixes all eight 32-bit halves of a key, so small or patterned keys spread as well.
 * Keys are only ever removed last first (an undo), which linear probing allows by emptying the
 * key's slot: no later key's probe went past it. Pure: no I/O.
 * @module
 */
import { type IndexArray, WordArray } from '../crypto/word-array.ts';

const HALVES = 8;
const MAX_LOAD = 5 / 8;

// MurmurHash3's 32-bit mixing of a key's eight halves at `at`.
function hashHalves(h: Uint32Array, at: number): number {
  let x = 0x9747b28c;
  for (let k = 0; k < HALVES; k++) {
    let w = Math.imul(h[at + k]!, 0xcc9e2d51);
    w = Math.imul((w << 15) | (w >>> 17), 0x1b873593);
    x ^= w;
    x = (Math.imul((x << 13) | (x >>> 19), 5) + 0xe6546b64) | 0;
  }
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

// Whether the key at half i of a equals the one at half j of b.
function sameKey(a: Uint32Array, i: number, b: Uint32Array, j: number): boolean {
  for (let k = 0; k < HALVES; k++) if (a[i + k] !== b[j + k]) return false;
  return true;
}

// The key at half i of a against the one at half j of b, most significant half first.
function compareKeys(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  for (let k = HALVES - 1; k >= 0; k--) {
    const d = a[i + k]! - b[j + k]!;
    if (d !== 0) return d;
  }
  return 0;
}

export class KeyTable {
  private keys = new WordArray(4);
  // Slot -> key number + 1 (0: empty); a power of two long.
  private slots = new Uint32Array(16);
  // A looked-up key as words, and as halves.
  private readonly scratch = new BigUint64Array(4);
  private readonly query = new Uint32Array(this.scratch.buffer);

  /** Number of keys. */
  get size(): number {
    return this.keys.length;
  }

  /** The key numbered `i` (no bounds check). */
  keyAt(i: number): bigint {
    return this.keys.get(i);
  }

  /** The keys' words in number order (a view: valid until the next add). */
  words(): BigUint64Array {
    return this.keys.words();
  }

  /** The number of `key`, or -1 if it is not in the set. */
  find(key: bigint): number {
    if (BigInt.asUintN(256, key) !== key) return -1;
    const q = this.load(key);
    const h = this.keys.halves;
    const mask = this.slots.length - 1;
    for (let s = hashHalves(q, 0) & mask; ; s = (s + 1) & mask) {
      const id = this.slots[s]! - 1;
      if (id < 0) return -1;
      if (sameKey(h, HALVES * id, q, 0)) return id;
    }
  }

  /** Adds `key`, which must not be in the set (find it first). @returns its number. */
  add(key: bigint): number {
    const id = this.keys.push(key);
    if (this.keys.length > MAX_LOAD * this.slots.length) this.rehash(2 * this.slots.length);
    else this.place(id);
    return id;
  }

  /** Removes the key added last. */
  removeLast(): void {
    const id = this.keys.length - 1;
    this.slots[this.slotOf(id)] = 0;
    this.keys.truncate(id);
  }

  /**
   * The number of keys below `key` (< 2^256) among those `order` numbers, which must list them
   * in increasing order (binary search).
   */
  rank(order: IndexArray, key: bigint): number {
    const q = this.load(key);
    const h = this.keys.halves;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareKeys(h, HALVES * order.get(mid), q, 0) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Compares the keys numbered `i` and `j`: negative, 0 or positive. */
  compareAt(i: number, j: number): number {
    const h = this.keys.halves;
    return compareKeys(h, HALVES * i, h, HALVES * j);
  }

  /** An independent copy. */
  clone(): KeyTable {
    const c = new KeyTable();
    c.keys = this.keys.clone();
    c.slots = this.slots.slice();
    return c;
  }

  /**
   * The set of the keys in `words` (taken over), numbered in their order.
   * @throws RangeError if a key is given twice.
   */
  static fromWords(words: BigUint64Array): KeyTable {
    const t = new KeyTable();
    t.keys = WordArray.adopt(4, words);
    let size = 16;
    while (t.keys.length > MAX_LOAD * size) size *= 2;
    t.rehash(size);
    return t;
  }

  private load(key: bigint): Uint32Array {
    const w = this.scratch;
    w[0] = key;
    w[1] = key >> 64n;
    w[2] = key >> 128n;
    w[3] = key >> 192n;
    return this.query;
  }

  // The slot holding key `id`.
  private slotOf(id: number): number {
    const mask = this.slots.length - 1;
    let s = hashHalves(this.keys.halves, HALVES * id) & mask;
    while (this.slots[s] !== id + 1) s = (s + 1) & mask;
    return s;
  }

  // Puts key `id` into the first free slot of its probe sequence.
  private place(id: number): void {
    const h = this.keys.halves;
    const mask = this.slots.length - 1;
    let s = hashHalves(h, HALVES * id) & mask;
    while (this.slots[s] !== 0) {
      if (sameKey(h, HALVES * (this.slots[s]! - 1), h, HALVES * id)) throw new RangeError('a key is given twice');
      s = (s + 1) & mask;
    }
    this.slots[s] = id + 1;
  }

  private rehash(size: number): void {
    this.slots = new Uint32Array(size);
    for (let id = 0; id < this.keys.length; id++) this.place(id);
  }
}
