/**
 * The reference the compact MerkleLog must match bit for bit (test/unit/merkle-log.test.ts):
 * the tree as zktrust kept it before its hashes moved into typed arrays (a Uint8Array per leaf
 * in a JS array, complete aligned subtrees cached lazily in a Map per level), with the audit
 * path and the consistency proof written as RFC 9162 2.1.3.1 and 2.1.4.1 state PATH and
 * SUBPROOF.
 * @module
 */
import { EMPTY_ROOT, nodeHash, type Hash } from '../../src/log/merkle-log.ts';

// The largest power of two strictly below n (n >= 2).
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export class ReferenceMerkleLog {
  private readonly leaves: Hash[] = [];
  private readonly cache: Map<number, Hash>[] = [];

  append(hash: Hash): void {
    this.leaves.push(hash);
  }

  leaf(index: number): Hash {
    return this.leaves[index]!;
  }

  /** MTH(D[0:n]). */
  root(n: number): Hash {
    return n === 0 ? EMPTY_ROOT : this.mth(0, n);
  }

  /** PATH(m, D[start:end]). */
  path(m: number, start: number, end: number): Hash[] {
    if (end - start === 1) return [];
    const k = split(end - start);
    return m < k ? [...this.path(m, start, start + k), this.mth(start + k, end)] : [...this.path(m - k, start + k, end), this.mth(start, start + k)];
  }

  /** SUBPROOF(m, D[start:end], b). */
  subproof(m: number, start: number, end: number, b: boolean): Hash[] {
    if (m === end - start) return b ? [] : [this.mth(start, end)];
    const k = split(end - start);
    return m <= k ? [...this.subproof(m, start, start + k, b), this.mth(start + k, end)] : [...this.subproof(m - k, start + k, end, false), this.mth(start, start + k)];
  }

  // MTH(D[start:end]), complete aligned subtrees cached by (level, index).
  private mth(start: number, end: number): Hash {
    const n = end - start;
    if (n === 1) return this.leaves[start]!;
    const level = (n & (n - 1)) === 0 && start % n === 0 ? Math.log2(n) : -1;
    const hit = level >= 0 ? this.cache[level]?.get(start / n) : undefined;
    if (hit) return hit;
    const k = split(n);
    const h = nodeHash(this.mth(start, start + k), this.mth(start + k, end));
    if (level >= 0) (this.cache[level] ??= new Map()).set(start / n, h);
    return h;
  }
}
