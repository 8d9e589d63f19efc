/**
 * Small maps from an organisation's index to a value, one per owner (an agent), all in the same
 * few typed arrays: each owner has a linked list of its entries, newest first, in pooled arrays
 * (the key, the next entry and the value, 8 bytes plus 8 a value word). An agent has a few
 * organisations out of up to 4^7, so this takes about 40 bytes an organisation slot, where the
 * QuadTree per agent the state had before took 1.1 KB an agent with three organisations.
 * Entries are never removed but last first (an undo); a copy is a memcpy per array. Pure.
 * @module
 */
import { IndexArray, WordArray } from '../crypto/word-array.ts';

/** The arrays of a SlotLists, for snapshots: entry numbers are stored plus one, 0 for none. */
export interface SlotListParts {
  /** Per owner: its newest entry + 1. */
  heads: Uint32Array;
  /** Per entry: the entry before it of the same owner + 1. */
  next: Uint32Array;
  /** Per entry: its key. */
  keys: Uint32Array;
  /** Per entry: its value, `width` words. */
  values: BigUint64Array;
}

export class SlotLists {
  private heads = new IndexArray();
  private next = new IndexArray();
  private keys = new IndexArray();
  private values: WordArray;

  constructor(readonly width: number) {
    this.values = new WordArray(width);
  }

  /** Number of owners. */
  get owners(): number {
    return this.heads.length;
  }

  /** Adds an owner without entries. @returns its number. */
  addOwner(): number {
    return this.heads.push(0);
  }

  /** Removes the owner added last, whose entries must have been removed. */
  removeLastOwner(): void {
    this.heads.truncate(this.heads.length - 1);
  }

  /** The entry of `owner` for `key`, or -1. */
  find(owner: number, key: number): number {
    for (let e = this.heads.get(owner) - 1; e >= 0; e = this.next.get(e) - 1) if (this.keys.get(e) === key) return e;
    return -1;
  }

  value(entry: number): bigint {
    return this.values.get(entry);
  }

  setValue(entry: number, x: bigint): void {
    this.values.set(entry, x);
  }

  /** Adds an entry for `key`, which `owner` must not have (find it first). @returns the entry. */
  add(owner: number, key: number, value: bigint): number {
    const e = this.values.push(value);
    this.keys.push(key);
    this.next.push(this.heads.get(owner));
    this.heads.set(owner, e + 1);
    return e;
  }

  /**
   * Removes the entry added last, which must be `owner`'s.
   * @throws Error if it is not (entries are only taken back in reverse order).
   */
  removeLast(owner: number): void {
    const e = this.values.length - 1;
    if (this.heads.get(owner) !== e + 1) throw new Error('only the entry added last can be removed');
    this.heads.set(owner, this.next.get(e));
    for (const a of [this.next, this.keys, this.values]) a.truncate(e);
  }

  /** The entries of `owner` as [key, value], newest first. */
  *of(owner: number): Generator<[number, bigint]> {
    for (let e = this.heads.get(owner) - 1; e >= 0; e = this.next.get(e) - 1) yield [this.keys.get(e), this.values.get(e)];
  }

  /** An independent copy. */
  clone(): SlotLists {
    const c = new SlotLists(this.width);
    c.heads = this.heads.clone();
    c.next = this.next.clone();
    c.keys = this.keys.clone();
    c.values = this.values.clone();
    return c;
  }

  /** The arrays (views, valid until the next change). */
  parts(): SlotListParts {
    return { heads: this.heads.values(), next: this.next.values(), keys: this.keys.values(), values: this.values.words() };
  }

  /**
   * The lists of `parts` (taken over, not copied), checked: every entry in exactly one list,
   * each list ending, keys below `keyLimit` and none twice in one list.
   * @throws RangeError naming what is wrong.
   */
  static fromParts(width: number, parts: SlotListParts, keyLimit: number): SlotLists {
    const { heads, next, keys, values } = parts;
    const count = next.length;
    if (keys.length !== count || values.length !== width * count) throw new RangeError('slot lists of different lengths');
    const linked = new Uint8Array(count);
    const seenBy = new Int32Array(keyLimit).fill(-1);
    heads.forEach((head, owner) => {
      // Each link points to an earlier entry, so every list ends.
      for (let e = head - 1; e >= 0; e = next[e]! - 1) {
        if (e >= count || linked[e] || next[e]! > e) throw new RangeError('slot lists are not separate lists');
        if (keys[e]! >= keyLimit || seenBy[keys[e]!] === owner) throw new RangeError('a slot list key is out of range or given twice');
        linked[e] = 1;
        seenBy[keys[e]!] = owner;
      }
    });
    if (linked.includes(0)) throw new RangeError('a slot list entry belongs to no owner');
    const s = new SlotLists(width);
    s.heads = IndexArray.adopt(heads);
    s.next = IndexArray.adopt(next);
    s.keys = IndexArray.adopt(keys);
    s.values = WordArray.adopt(width, values);
    return s;
  }
}
