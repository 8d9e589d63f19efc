/**
 * A set of strings (the log's submission ids, `<org>/<nonce>`), each numbered by the order it
 * was added in: the replay guard and the lookup of a submission by its id.
 *
 * Memory layout: a string is kept as the first 16 bytes of its SHA-256, four 32-bit words in
 * one growable Uint32Array (16 bytes a string), and an open-addressing hash table of the
 * numbers + 1 in a Uint32Array whose length is a power of two (linear probing, at most half
 * full: 8 to 16 bytes a string). A Map keyed by the id strings took 150 bytes of heap an id
 * (1,500,000 ids). Two strings count as the same when their digests are: among a billion ids
 * a collision has a probability below 2^-68, and making one on purpose takes about 2^64
 * hashes (and would only make the maker's own nonce look used).
 * @module
 */
import { createHash } from 'node:crypto';
import { withRoom } from '../crypto/grow.ts';

const WORDS = 4;

// The first 16 bytes of SHA-256(s), as four words.
function digest(s: string): Uint32Array {
  const h = createHash('sha256').update(s).digest();
  return Uint32Array.of(h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12));
}

export class IdIndex {
  private digests: Uint32Array = new Uint32Array(0);
  // Slot -> number + 1, 0 when empty.
  private slots: Uint32Array = new Uint32Array(16);
  private count = 0;

  /**
   * An index of the strings whose digests are `words` (as `digestWords()` gave them, kept,
   * not copied), numbered in their order.
   * @throws RangeError if two digests are the same.
   */
  static fromDigests(words: Uint32Array): IdIndex {
    if (words.length % WORDS !== 0) throw new RangeError('digests are four words each');
    const ids = new IdIndex();
    ids.digests = words;
    ids.count = words.length / WORDS;
    let length = ids.slots.length;
    while (2 * ids.count > length) length *= 2;
    ids.slots = ids.numbered(length);
    return ids;
  }

  /** The digests, four words a string in number order: a view that adds leave unchanged. */
  digestWords(): Uint32Array {
    return this.digests.subarray(0, this.count * WORDS);
  }

  /** Number of strings. */
  get size(): number {
    return this.count;
  }

  /** The number of `id`, or -1 if it was never added. */
  find(id: string): number {
    return this.slots[this.slotOf(digest(id), this.slots)]! - 1;
  }

  /** Adds `id` with number `size`. @returns false (adding nothing) if it is in already. */
  add(id: string): boolean {
    const d = digest(id);
    const slot = this.slotOf(d, this.slots);
    if (this.slots[slot] !== 0) return false;
    this.digests = withRoom(this.digests, (this.count + 1) * WORDS);
    this.digests.set(d, this.count * WORDS);
    this.slots[slot] = ++this.count;
    if (2 * this.count > this.slots.length) this.grow();
    return true;
  }

  // The slot of `slots` holding digest d, or the empty slot where it goes.
  private slotOf(d: Uint32Array, slots: Uint32Array): number {
    const mask = slots.length - 1;
    for (let s = d[0]! & mask; ; s = (s + 1) & mask) {
      const n = slots[s]!;
      if (n === 0 || this.holds(n - 1, d)) return s;
    }
  }

  // Whether string number n has digest d.
  private holds(n: number, d: Uint32Array): boolean {
    const o = n * WORDS;
    const ds = this.digests;
    return ds[o] === d[0] && ds[o + 1] === d[1] && ds[o + 2] === d[2] && ds[o + 3] === d[3];
  }

  // Doubles the table and puts every number back.
  private grow(): void {
    this.slots = this.numbered(2 * this.slots.length);
  }

  // A table of `length` slots holding every number. @throws RangeError for a repeated digest.
  private numbered(length: number): Uint32Array {
    const slots = new Uint32Array(length);
    for (let n = 0; n < this.count; n++) {
      const slot = this.slotOf(this.digests.subarray(n * WORDS, (n + 1) * WORDS), slots);
      if (slots[slot] !== 0) throw new RangeError(`digest ${n} repeats digest ${slots[slot]! - 1}`);
      slots[slot] = n + 1;
    }
    return slots;
  }
}
