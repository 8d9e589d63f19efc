/**
 * The typed-array structures under the agent state and the projection, each against the plain
 * structure it replaces, under random operations: WordArray and IndexArray against arrays,
 * DenseQuadTree and sparsePath against QuadTree, KeyTable against a Map, SlotLists against a
 * Map of Maps; copies are independent, and what they are restored from is checked.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DenseQuadTree } from '../../src/crypto/dense-quad-tree.ts';
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { QuadTree, quadRootFromPath, sparsePath } from '../../src/crypto/quad-tree.ts';
import { IndexArray, WordArray } from '../../src/crypto/word-array.ts';
import { KeyTable } from '../../src/state/key-table.ts';
import { SlotLists } from '../../src/state/slot-lists.ts';

const field = fc.bigInt({ min: 0n, max: FIELD_MODULUS - 1n });
// Keys as agents are (field elements) and as tests make them: small, patterned, equal in most words.
const key = fc.oneof(fc.bigInt({ min: 0n, max: 50n }), fc.integer({ min: 1, max: 5000 }).map((i) => BigInt(i) * 0x9e3779b97f4a7c15n), fc.bigInt({ min: 0n, max: 15n }).map((x) => (x << 200n) | 7n), field);

describe('WordArray and IndexArray', () => {
  it('hold what is pushed and set, across growth, and copies are independent', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.bigInt({ min: 0n, max: 2n ** 256n - 1n })), { maxLength: 80 }), (width, ops) => {
        const a = new WordArray(width);
        const plain: bigint[] = [];
        const fit = (x: bigint) => x & ((1n << BigInt(64 * width)) - 1n);
        for (const [push, at, x] of ops) {
          if (push || plain.length === 0) plain.push(fit(x)), a.push(x);
          else (plain[at % plain.length] = fit(x)), a.set(at % plain.length, x);
        }
        const copy = a.clone();
        if (plain.length) a.set(0, 1n);
        expect(Array.from({ length: copy.length }, (_, i) => copy.get(i))).toEqual(plain);
        expect(Array.from({ length: copy.length }, (_, i) => WordArray.adopt(width, copy.words().slice()).get(i))).toEqual(plain);
        copy.truncate(1);
        expect(copy.length).toBe(Math.min(1, plain.length));
      }),
    );
    expect(() => new WordArray(5)).toThrow(RangeError);
  });

  it('IndexArray inserts as splice does', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.nat(2 ** 32 - 1)), { maxLength: 100 }), (ops) => {
        const a = new IndexArray();
        const plain: number[] = [];
        for (const [at, x] of ops) {
          const i = at % (plain.length + 1);
          plain.splice(i, 0, x);
          a.insert(i, x);
        }
        const copy = a.clone();
        if (plain.length) a.set(0, 1);
        expect([...copy.values()]).toEqual(plain);
        expect([...IndexArray.adopt(copy.values().slice()).values()]).toEqual(plain);
      }),
    );
  });
});

describe('DenseQuadTree', () => {
  it('equals a QuadTree holding the same leaves: roots, leaves and paths', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.array(fc.tuple(fc.nat(), field), { minLength: 1, maxLength: 40 }), (depth, ops) => {
        const dense = new DenseQuadTree(depth);
        const plain = new QuadTree(depth);
        for (const [at, v] of ops) {
          const i = Math.min(at % (dense.size + 1), dense.capacity - 1);
          dense.set(i, v);
          plain.set(i, v);
          expect(dense.root).toBe(plain.root);
        }
        const copy = dense.clone();
        dense.set(0, 1n);
        for (let i = 0; i < Math.min(copy.capacity, copy.size + 5); i++) {
          expect(copy.get(i)).toBe(plain.get(i));
          expect(copy.path(i)).toEqual(plain.path(i));
        }
        const leaves = new WordArray(4);
        for (let i = 0; i < copy.size; i++) leaves.push(copy.get(i));
        expect(DenseQuadTree.fromLeaves(depth, leaves).root).toBe(plain.root);
        expect(DenseQuadTree.fromLevelWords(depth, copy.levelWords().map((l) => l.slice())).root).toBe(plain.root);
      }),
      { numRuns: 30 },
    );
  });

  it('writes leaves in order only, and takes levels only of the sizes their leaves imply', () => {
    const t = new DenseQuadTree(2);
    expect(() => t.set(1, 5n)).toThrow(RangeError);
    t.set(0, 5n);
    t.set(1, 6n);
    expect(() => t.set(3, 5n)).toThrow(RangeError);
    expect(() => t.set(2, FIELD_MODULUS)).toThrow(RangeError);
    expect(() => t.get(16)).toThrow(RangeError);
    const levels = t.levelWords().map((l) => l.slice());
    expect(() => DenseQuadTree.fromLevelWords(2, levels.slice(0, 2))).toThrow(/levels/);
    expect(() => DenseQuadTree.fromLevelWords(2, [levels[0]!, new BigUint64Array(8), levels[2]!])).toThrow(/levels/);
    expect(() => new DenseQuadTree(0)).toThrow(RangeError);
  });
});

describe('sparsePath', () => {
  it('is the path a QuadTree holding the same leaves gives, and leads to its root', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4 }), fc.array(fc.tuple(fc.nat(), field), { maxLength: 8 }), fc.nat(), field, (depth, leaves, at, v) => {
        const size = 4 ** depth;
        const index = at % size;
        const placed = new Map(leaves.map(([i, x]) => [i % size, x]));
        placed.set(index, v);
        const path = sparsePath(depth, [...placed], index);
        expect(path).toHaveLength(depth);
        if (depth === 0) return;
        const plain = new QuadTree(depth);
        for (const [i, x] of placed) plain.set(i, x);
        expect(path).toEqual(plain.path(index));
        expect(quadRootFromPath(v, index, path)).toBe(plain.root);
      }),
      { numRuns: 40 },
    );
  });
});

describe('KeyTable', () => {
  it('finds, numbers, orders, ranks and removes keys as a Map and a sort do', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('add', 'add', 'add', 'find', 'remove'), key), { maxLength: 150 }), (ops) => {
        const t = new KeyTable();
        const plain: bigint[] = [];
        for (const [op, k] of ops) {
          if (op === 'add' && !plain.includes(k)) expect(t.add(k)).toBe(plain.push(k) - 1);
          if (op === 'remove' && plain.length) (t.removeLast(), plain.pop());
          expect(t.find(k)).toBe(plain.indexOf(k));
        }
        expect(t.size).toBe(plain.length);
        const copy = t.clone();
        const again = KeyTable.fromWords(t.words().slice());
        if (!plain.includes(12345n)) t.add(12345n);
        const order = IndexArray.adopt(Uint32Array.from(plain.keys()).sort((i, j) => copy.compareAt(i, j)));
        expect([...order.values()].map((i) => plain[i])).toEqual([...plain].sort((a, b) => (a < b ? -1 : 1)));
        plain.forEach((k, i) => {
          for (const u of [copy, again]) {
            expect([u.find(k), u.keyAt(i)]).toEqual([i, k]);
            expect(u.rank(order, k)).toBe(plain.filter((x) => x < k).length);
            expect(u.rank(order, k + 1n)).toBe(plain.filter((x) => x <= k).length);
          }
        });
        if (!plain.includes(12345n)) expect(copy.find(12345n)).toBe(-1);
      }),
      { numRuns: 60 },
    );
  });

  it('finds nothing outside 256 bits, and refuses a key given twice', () => {
    const t = new KeyTable();
    t.add(5n);
    expect([t.find(5n + 2n ** 256n), t.find(-5n), t.find(2n ** 256n - 1n)]).toEqual([-1, -1, -1]);
    expect(() => KeyTable.fromWords(BigUint64Array.of(5n, 0n, 0n, 1n, 7n, 0n, 0n, 0n, 5n, 0n, 0n, 1n))).toThrow(/twice/);
  });
});

describe('SlotLists', () => {
  const lists = (width: number, ops: Array<[number, number, number, bigint]>) => {
    const s = new SlotLists(width);
    const plain: Array<Map<number, bigint>> = [];
    const log: number[] = [];
    for (const [op, who, k, v] of ops) {
      if (op === 0 || plain.length === 0) (s.addOwner(), plain.push(new Map()));
      const owner = who % plain.length;
      const e = s.find(owner, k);
      expect(e >= 0).toBe(plain[owner]!.has(k));
      if (op === 3 && log.length && log.at(-1) === owner) {
        const last = [...plain[owner]!.keys()].at(-1)!;
        s.removeLast(owner);
        plain[owner]!.delete(last);
        log.pop();
      } else if (e >= 0) (s.setValue(e, v), plain[owner]!.set(k, v));
      else (s.add(owner, k, v), plain[owner]!.set(k, v), log.push(owner));
    }
    return { s, plain };
  };
  const op = fc.tuple(fc.nat(3), fc.nat(), fc.nat(15), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }));

  it('holds per owner what a Map holds, and takes back its last entry', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const { s, plain } = lists(1, ops);
        const copy = s.clone();
        const again = SlotLists.fromParts(1, Object.fromEntries(Object.entries(s.parts()).map(([k, a]) => [k, a.slice()])) as never, 16);
        if (plain.length) s.add(0, 99, 1n);
        for (const u of [copy, again]) {
          expect(u.owners).toBe(plain.length);
          plain.forEach((m, owner) => expect(new Map(u.of(owner))).toEqual(m));
        }
      }),
    );
  });

  it('refuses to take back an entry that is not the last', () => {
    const s = new SlotLists(4);
    s.addOwner();
    s.addOwner();
    s.add(0, 1, 5n);
    s.add(1, 1, 6n);
    expect(() => s.removeLast(0)).toThrow(/last/);
    s.removeLast(1);
    s.removeLast(0);
    expect([...s.of(0)]).toEqual([]);
  });
});
