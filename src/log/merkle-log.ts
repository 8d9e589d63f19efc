/**
 * The transparency log's Merkle tree, as RFC 9162 (Certificate Transparency v2) section 2.1
 * defines it over SHA-256: leaf hash H(0x00 || entry), node hash H(0x01 || left || right),
 * the tree head of any size (not only powers of two), audit (inclusion) paths and
 * consistency proofs, and the verification algorithms of sections 2.1.3.2 and 2.1.4.2.
 *
 * Memory layout: `MerkleLog` keeps its hashes in one growable Uint8Array per level, 32 bytes
 * each, nothing else. Level 0 holds the leaf hashes; level k holds the hash of every complete,
 * aligned block of 2^k leaves (node j covers leaves [j * 2^k, (j + 1) * 2^k)), computed when
 * its last leaf is appended (one node hash per append, amortised) and never changed after.
 * So the tree costs 64 bytes an entry, and a head or a proof costs O(log n) hashes: each
 * complete aligned subtree it needs is read, only the right edge is hashed. A Uint8Array per
 * hash in a JS array, with a Map per level for the cached nodes, took 515 bytes of heap an
 * entry at 3,000,000 entries; this takes 64 in use, 90 allocated while capacity doubles.
 * Pure: no I/O.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { withRoom } from '../crypto/grow.ts';

export type Hash = Uint8Array;

/** H(0x00 || entry). */
export function leafHash(entry: Uint8Array): Hash {
  const b = new Uint8Array(entry.length + 1);
  b.set(entry, 1);
  return sha256(b);
}

/** H(0x01 || left || right). */
export function nodeHash(left: Hash, right: Hash): Hash {
  const b = new Uint8Array(65);
  b[0] = 1;
  b.set(left, 1);
  b.set(right, 33);
  return sha256(b);
}

/** The root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT: Hash = sha256(new Uint8Array(0));

/** The largest power of two strictly below n (n >= 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function eq(a: Hash, b: Hash): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

const HASH_BYTES = 32;

/** Hashes in one growable Uint8Array. */
class HashArray {
  private bytes: Uint8Array;
  private count: number;

  /** The hashes in `bytes` (32 each), which it keeps. */
  constructor(bytes: Uint8Array = new Uint8Array(0)) {
    this.bytes = bytes;
    this.count = bytes.length / HASH_BYTES;
  }

  get length(): number {
    return this.count;
  }

  push(h: Hash): void {
    this.bytes = withRoom(this.bytes, (this.count + 1) * HASH_BYTES);
    this.bytes.set(h, this.count * HASH_BYTES);
    this.count++;
  }

  /** A copy of hash i (no bounds check: the caller keeps i < length). */
  at(i: number): Hash {
    return this.bytes.slice(i * HASH_BYTES, (i + 1) * HASH_BYTES);
  }

  /** The hashes' bytes: a view that appends leave unchanged (they only write past it). */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.count * HASH_BYTES);
  }
}

/**
 * The byte length of each level of a log of n entries, leaves first: 32 bytes per complete
 * aligned block, for every level k with 2^k <= n (level 0 alone when n is 0).
 */
export function levelLengths(n: number): number[] {
  const lengths = [n * HASH_BYTES];
  for (let k = 1; 2 ** k <= n; k++) lengths.push(Math.floor(n / 2 ** k) * HASH_BYTES);
  return lengths;
}

export class MerkleLog {
  // levels[k].at(j): the hash of leaves [j * 2^k, (j + 1) * 2^k); levels[0] are the leaves.
  private readonly levels: HashArray[] = [new HashArray()];

  /**
   * A log from its levels as `levelViews()` gave them (kept, not copied); the hashes are not
   * recomputed, so they must come from a checked source.
   * @throws RangeError unless their number and lengths are those of a tree.
   */
  static fromLevels(levels: Uint8Array[]): MerkleLog {
    const n = (levels[0]?.length ?? 0) / HASH_BYTES;
    const lengths = Number.isInteger(n) ? levelLengths(n) : [];
    if (levels.length !== lengths.length || levels.some((l, k) => l.length !== lengths[k])) throw new RangeError('the levels do not have the lengths of a tree');
    const log = new MerkleLog();
    log.levels.splice(0, 1, ...levels.map((l) => new HashArray(l)));
    return log;
  }

  /**
   * Every level's hashes, leaves first (32 bytes a hash; level k holds floor(size / 2^k)):
   * views, unchanged by later appends (levels only grow at their end).
   */
  levelViews(): Uint8Array[] {
    return this.levels.map((l) => l.view());
  }

  /** Number of entries. */
  get size(): number {
    return this.levels[0]!.length;
  }

  /** Appends a leaf hash (see leafHash) and returns its index. */
  append(hash: Hash): number {
    if (!(hash instanceof Uint8Array) || hash.length !== HASH_BYTES) throw new TypeError('leaf hash must be 32 bytes');
    const index = this.size;
    this.levels[0]!.push(hash);
    this.completeBlocks(index);
    return index;
  }

  // Hashes the aligned blocks that leaf `index` completes: one per trailing 1 bit of the index.
  private completeBlocks(index: number): void {
    for (let level = 0, j = index; j % 2 === 1; level++, j = (j - 1) / 2) {
      const below = this.levels[level]!;
      (this.levels[level + 1] ??= new HashArray()).push(nodeHash(below.at(j - 1), below.at(j)));
    }
  }

  /** The leaf hash at `index`. @throws RangeError outside the log. */
  leaf(index: number): Hash {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`no leaf ${index}`);
    return this.levels[0]!.at(index);
  }

  // MTH(D[start:end]); a complete aligned block is read from its level.
  private range(start: number, end: number): Hash {
    const n = end - start;
    if ((n & (n - 1)) === 0 && start % n === 0) return this.levels[Math.log2(n)]!.at(start / n);
    const k = splitPoint(n);
    return nodeHash(this.range(start, start + k), this.range(start + k, end));
  }

  private checkSize(n: number, name = 'size'): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.size) throw new RangeError(`${name} must be an integer in [0, ${this.size}]`);
  }

  /** The tree head MTH(D[0:n]) (n defaults to the whole log). */
  root(n: number = this.size): Hash {
    this.checkSize(n);
    return n === 0 ? EMPTY_ROOT : this.range(0, n);
  }

  /**
   * The audit path of leaf `index` in the tree of size `n` (RFC 9162 2.1.3.1).
   * @throws RangeError unless 0 <= index < n <= size.
   */
  inclusionProof(index: number, n: number = this.size): Hash[] {
    this.checkSize(n);
    if (!Number.isSafeInteger(index) || index < 0 || index >= n) throw new RangeError('index must be in [0, n)');
    const path: Hash[] = [];
    const walk = (m: number, start: number, end: number): void => {
      if (end - start === 1) return;
      const k = splitPoint(end - start);
      if (m < k) {
        walk(m, start, start + k);
        path.push(this.range(start + k, end));
      } else {
        walk(m - k, start + k, end);
        path.push(this.range(start, start + k));
      }
    };
    walk(index, 0, n);
    return path;
  }

  /**
   * The consistency proof between the trees of sizes m and n (RFC 9162 2.1.4.1).
   * @throws RangeError unless 0 < m <= n <= size.
   */
  consistencyProof(m: number, n: number = this.size): Hash[] {
    this.checkSize(n);
    if (!Number.isSafeInteger(m) || m < 1 || m > n) throw new RangeError('m must be in [1, n]');
    const proof: Hash[] = [];
    const sub = (mm: number, start: number, end: number, whole: boolean): void => {
      if (mm === end - start) {
        if (!whole) proof.push(this.range(start, end));
        return;
      }
      const k = splitPoint(end - start);
      if (mm <= k) {
        sub(mm, start, start + k, whole);
        proof.push(this.range(start + k, end));
      } else {
        sub(mm - k, start + k, end, false);
        proof.push(this.range(start, start + k));
      }
    };
    sub(m, 0, n, true);
    return proof;
  }
}

/**
 * Verifies an audit path (RFC 9162 2.1.3.2).
 * @returns true iff `leaf` is entry `index` of the tree of size `size` with head `root`.
 */
export function verifyInclusion(leaf: Hash, index: number, size: number, path: readonly Hash[], root: Hash): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && eq(r, root);
}

/**
 * Verifies a consistency proof (RFC 9162 2.1.4.2).
 * @returns true iff the tree of size `second` with head `secondRoot` extends the tree of
 *   size `first` with head `firstRoot`.
 */
export function verifyConsistency(first: number, second: number, firstRoot: Hash, secondRoot: Hash, proof: readonly Hash[]): boolean {
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(second) || first < 1 || first > second) return false;
  if (first === second) return proof.length === 0 && eq(firstRoot, secondRoot);
  let path = [...proof];
  // If first is a power of two, the first tree's head is the first node of the path.
  if ((first & (first - 1)) === 0) path = [firstRoot, ...path];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn >>= 1;
    sn >>= 1;
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && eq(fr, firstRoot) && eq(sr, secondRoot);
}
