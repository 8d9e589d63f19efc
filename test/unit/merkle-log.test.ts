/**
 * The RFC 9162 Merkle log: heads against a direct recursive definition, every inclusion and
 * consistency proof verifies, and altered proofs, sizes or hashes fail; heads, leaves and
 * proofs are bit for bit those of the implementation before the typed-array layout.
 */
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT, MerkleLog, leafHash, nodeHash, verifyConsistency, verifyInclusion } from '../../src/log/merkle-log.ts';
import { ReferenceMerkleLog } from '../helpers/reference-merkle-log.ts';

// RFC 9162 2.1.1, written out literally as the reference.
function mth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return sha256(new Uint8Array(0));
  if (d.length === 1) return leafHash(d[0]!);
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return nodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
}

const entries = (n: number) => Array.from({ length: n }, (_, i) => new TextEncoder().encode(`entry ${i}`));
function logOf(n: number): MerkleLog {
  const log = new MerkleLog();
  for (const e of entries(n)) log.append(leafHash(e));
  return log;
}

describe('MerkleLog (RFC 9162)', () => {
  it('known answers: empty tree, one leaf, two leaves', () => {
    expect(Buffer.from(EMPTY_ROOT).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    const log = new MerkleLog();
    expect(log.root()).toEqual(EMPTY_ROOT);
    const [a, b] = entries(2);
    log.append(leafHash(a!));
    expect(log.root()).toEqual(sha256(Uint8Array.from([0, ...a!])));
    log.append(leafHash(b!));
    expect(log.root()).toEqual(sha256(Uint8Array.from([1, ...sha256(Uint8Array.from([0, ...a!])), ...sha256(Uint8Array.from([0, ...b!]))])));
  });

  it('heads of every size up to 70 match the recursive definition', () => {
    const log = logOf(70);
    const d = entries(70);
    for (let n = 0; n <= 70; n++) expect(log.root(n)).toEqual(mth(d.slice(0, n)));
  });

  it('a log rebuilt from its level views answers as the original; levels of other lengths are refused', () => {
    for (const n of [0, 1, 2, 5, 64, 70]) {
      const log = logOf(n);
      const copy = MerkleLog.fromLevels(log.levelViews().map((l) => l.slice()));
      expect(copy.size).toBe(n);
      if (n > 0) expect(copy.inclusionProof(n - 1)).toEqual(log.inclusionProof(n - 1));
      copy.append(leafHash(Uint8Array.of(9)));
      log.append(leafHash(Uint8Array.of(9)));
      expect(copy.root()).toEqual(log.root());
    }
    const levels = logOf(5).levelViews();
    expect(() => MerkleLog.fromLevels(levels.slice(0, 2))).toThrow(RangeError);
    expect(() => MerkleLog.fromLevels([levels[0]!.subarray(1), ...levels.slice(1)])).toThrow(RangeError);
    expect(() => MerkleLog.fromLevels([])).toThrow(RangeError);
  });

  it('every inclusion proof verifies, for every index of every size up to 70; altered ones do not', () => {
    const log = logOf(70);
    for (let n = 1; n <= 70; n++) {
      const root = log.root(n);
      for (let i = 0; i < n; i++) {
        const path = log.inclusionProof(i, n);
        expect(verifyInclusion(log.leaf(i), i, n, path, root)).toBe(true);
        if (n > 1) {
          expect(verifyInclusion(log.leaf(i), (i + 1) % n, n, path, root)).toBe(false);
          expect(verifyInclusion(log.leaf((i + 1) % n), i, n, path, root)).toBe(false);
          if (n < 70) expect(verifyInclusion(log.leaf(i), i, n + 1, path, log.root(n + 1))).toBe(false);
          expect(verifyInclusion(log.leaf(i), i, n, path.slice(1), root)).toBe(false);
        }
      }
    }
  });

  it('every consistency proof verifies for 1 <= m <= n <= 40; altered ones do not', () => {
    const log = logOf(40);
    for (let n = 1; n <= 40; n++) {
      for (let m = 1; m <= n; m++) {
        const proof = log.consistencyProof(m, n);
        expect(verifyConsistency(m, n, log.root(m), log.root(n), proof), `${m}->${n}`).toBe(true);
        if (m < n) {
          expect(verifyConsistency(m, n, log.root(m), log.root(n - 1), proof)).toBe(false);
          expect(verifyConsistency(m, n, log.root(n), log.root(n), proof)).toBe(false);
          if (proof.length > 0) {
            const bad = proof.map((p, i) => (i === 0 ? sha256(p) : p));
            expect(verifyConsistency(m, n, log.root(m), log.root(n), bad)).toBe(false);
          }
        }
      }
    }
  });

  it('random swaps of proof nodes are rejected', () => {
    const log = logOf(37);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 36 }), fc.integer({ min: 0, max: 5 }), (i, j) => {
        const path = log.inclusionProof(i, 37);
        fc.pre(path.length > j + 1 && !Buffer.from(path[j]!).equals(Buffer.from(path[j + 1]!)));
        const swapped = [...path];
        [swapped[j], swapped[j + 1]] = [swapped[j + 1]!, swapped[j]!];
        expect(verifyInclusion(log.leaf(i), i, 37, swapped, log.root(37))).toBe(false);
      }),
    );
  });

  it('refuses out-of-range requests', () => {
    const log = logOf(5);
    expect(() => log.root(6)).toThrow(RangeError);
    expect(() => log.inclusionProof(5, 5)).toThrow(RangeError);
    expect(() => log.consistencyProof(0, 5)).toThrow(RangeError);
    expect(() => log.append(new Uint8Array(31))).toThrow(TypeError);
    expect(verifyConsistency(0, 5, EMPTY_ROOT, log.root(), [])).toBe(false);
  });

  describe('the same answers as the previous implementation', () => {
    const leaf = (k: number) => leafHash(new TextEncoder().encode(`leaf ${k}`));
    function grow(log: MerkleLog, ref: ReferenceMerkleLog, count: number): void {
      for (let k = 0; k < count; k++) {
        const h = leaf(log.size);
        log.append(h);
        ref.append(h);
      }
    }
    function expectSame(log: MerkleLog, ref: ReferenceMerkleLog, q: { n: number; m: number; i: number }): void {
      const n = 1 + (q.n % log.size);
      const m = 1 + (q.m % n);
      const i = q.i % n;
      expect(log.root()).toEqual(ref.root(log.size));
      expect(log.root(n)).toEqual(ref.root(n));
      expect(log.leaf(i)).toEqual(ref.leaf(i));
      expect(log.inclusionProof(i, n)).toEqual(ref.path(i, 0, n));
      expect(log.consistencyProof(m, n)).toEqual(ref.subproof(m, 0, n, true));
    }

    it('random sizes, queried while the log grows', () => {
      const step = fc.record({ count: fc.integer({ min: 1, max: 300 }), n: fc.nat(), m: fc.nat(), i: fc.nat() });
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 8 }), (steps) => {
          const log = new MerkleLog();
          const ref = new ReferenceMerkleLog();
          for (const s of steps) {
            grow(log, ref, s.count);
            expectSame(log, ref, s);
          }
        }),
        { numRuns: 60 },
      );
    });

    it('random queries on a log of 70,001 entries', () => {
      const log = new MerkleLog();
      const ref = new ReferenceMerkleLog();
      grow(log, ref, 70_001);
      fc.assert(fc.property(fc.record({ n: fc.nat(), m: fc.nat(), i: fc.nat() }), (q) => expectSame(log, ref, q)), { numRuns: 200 });
    });

    it('hands out copies: changing a returned hash changes nothing in the log', () => {
      const log = logOf(8);
      const root = log.root();
      log.leaf(3).fill(0);
      log.inclusionProof(3, 8)[0]!.fill(0);
      log.root().fill(0);
      expect(log.root()).toEqual(root);
    });
  });
});
