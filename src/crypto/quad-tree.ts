/**
 * A sparse quaternary Poseidon Merkle tree, the TypeScript twin of circuits/lib/quad-merkle.circom.
 * Node = Poseidon(c0, c1, c2, c3); empty subtrees hash to Z_k (Z_0 = 0). Positions are base-4
 * numbers, least significant digit at the bottom level. Only non-empty nodes are stored. The
 * agent state's large trees are DenseQuadTrees (dense-quad-tree.ts); its organisation sets keep
 * no inner nodes at all, and sparsePath hashes what a path needs from their leaves.
 * @module
 */
import { assertField } from './field.ts';
import { poseidon } from './poseidon.ts';

const zeroCache: bigint[] = [0n];

/** Z_k: the root of an empty tree of depth k. */
export function emptyRoot(depth: number): bigint {
  for (let k = zeroCache.length; k <= depth; k++) {
    const z = zeroCache[k - 1]!;
    zeroCache.push(poseidon([z, z, z, z]));
  }
  return zeroCache[depth]!;
}

/** Siblings of a leaf, bottom level first: three per level, in position order. */
export type QuadPath = bigint[][];

/**
 * Root of a tree holding `leaf` at `index`, given its path (QuadMerkleRoot).
 * @throws RangeError if the index does not fit the path's depth.
 * @example quadRootFromPath(leaf, 5, tree.path(5))
 */
export function quadRootFromPath(leaf: bigint, index: number, siblings: QuadPath): bigint {
  if (!Number.isSafeInteger(index) || index < 0 || index >= 4 ** siblings.length) {
    throw new RangeError(`index must be in [0, 4^${siblings.length})`);
  }
  let node = leaf;
  let pos = index;
  for (const s of siblings) {
    const digit = pos % 4;
    const children = [...s];
    children.splice(digit, 0, node);
    node = poseidon(children);
    pos = Math.floor(pos / 4);
  }
  return node;
}

/**
 * Where level `level`'s nodes start in a tree's one node map: the leaves (4^depth positions)
 * first, then each level up. Every key stays below 4^(depth + 1) / 3 < 2^53 for depth <= 26.
 */
export function levelOffsets(depth: number): number[] {
  const out = [0];
  for (let l = 0; l < depth; l++) out.push(out[l]! + 4 ** (depth - l));
  return out;
}

/**
 * The path of the leaf at `index` in a tree of `depth` levels whose node (level, i) is
 * `node(level, i)`: three siblings per level, bottom level first, in position order.
 */
export function siblingsOf(depth: number, index: number, node: (level: number, i: number) => bigint): QuadPath {
  const out: QuadPath = [];
  let pos = index;
  for (let level = 0; level < depth; level++) {
    const first = pos - (pos % 4);
    const s: bigint[] = [];
    for (let j = 0; j < 4; j++) if (first + j !== pos) s.push(node(level, first + j));
    out.push(s);
    pos = Math.floor(pos / 4);
  }
  return out;
}

/**
 * The path of position `index` in a tree of `depth` levels holding only `leaves` (a leaf at
 * `index` itself is left out): only the non-empty subtrees beside the path are hashed, once
 * each. For small sparse trees whose inner nodes are not kept (organisation sets).
 * @example quadRootFromPath(v, 5, sparsePath(3, [[9, w]], 5)) // the root of a tree holding v at 5 and w at 9
 */
export function sparsePath(depth: number, leaves: Iterable<readonly [number, bigint]>, index: number): QuadPath {
  const levels = [new Map([...leaves].filter(([i]) => i !== index))];
  let pos = index;
  for (let level = 0; level < depth - 1; level++) {
    const below = levels[level]!;
    const up = new Map<number, bigint>();
    pos = Math.floor(pos / 4);
    for (const i of below.keys()) {
      const parent = Math.floor(i / 4);
      if (parent === pos || up.has(parent)) continue;
      up.set(parent, poseidon([0, 1, 2, 3].map((j) => below.get(4 * parent + j) ?? emptyRoot(level))));
    }
    levels.push(up);
  }
  return siblingsOf(depth, index, (level, i) => levels[level]!.get(i) ?? emptyRoot(level));
}

export class QuadTree {
  readonly depth: number;
  readonly capacity: number;
  // Every stored (non-empty) node in one map, keyed by offsets[level] + index: one Map per
  // tree rather than one per level, as five empty Maps alone cost about 1 KB.
  private nodes = new Map<number, bigint>();
  private readonly offsets: number[];

  /** @throws RangeError if depth is not an integer in [1, 26]. */
  constructor(depth: number) {
    if (!Number.isInteger(depth) || depth < 1 || depth > 26) throw new RangeError('depth must be an integer in [1, 26]');
    this.depth = depth;
    this.capacity = 4 ** depth;
    this.offsets = levelOffsets(depth);
    emptyRoot(depth);
  }

  get root(): bigint {
    return this.nodes.get(this.offsets[this.depth]!) ?? emptyRoot(this.depth);
  }

  /** The non-empty leaves, as [index, value]. */
  *leaves(): Generator<[number, bigint]> {
    for (const [k, v] of this.nodes) if (k < this.capacity) yield [k, v];
  }

  /** An independent copy (no hashing). */
  clone(): QuadTree {
    const t = new QuadTree(this.depth);
    t.nodes = new Map(this.nodes);
    return t;
  }

  private node(level: number, index: number): bigint {
    return this.nodes.get(this.offsets[level]! + index) ?? zeroCache[level]!;
  }

  private checkIndex(index: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.capacity) {
      throw new RangeError(`index must be an integer in [0, ${this.capacity})`);
    }
  }

  /** The leaf value at `index` (0 when empty). @throws RangeError for an index outside the tree. */
  get(index: number): bigint {
    this.checkIndex(index);
    return this.node(0, index);
  }

  /**
   * Sets the leaf at `index` and recomputes its path to the root.
   * @throws RangeError for an index outside the tree; TypeError/RangeError for a non-field value.
   */
  set(index: number, value: bigint): void {
    this.checkIndex(index);
    assertField(value, 'value');
    let pos = index;
    let v = value;
    for (let level = 0; level < this.depth; level++) {
      const key = this.offsets[level]! + pos;
      if (v === zeroCache[level]) this.nodes.delete(key);
      else this.nodes.set(key, v);
      const first = pos - (pos % 4);
      v = poseidon([this.node(level, first), this.node(level, first + 1), this.node(level, first + 2), this.node(level, first + 3)]);
      pos = Math.floor(pos / 4);
    }
    const rootKey = this.offsets[this.depth]!;
    if (v === zeroCache[this.depth]) this.nodes.delete(rootKey);
    else this.nodes.set(rootKey, v);
  }

  /**
   * The four children of the root (the nodes of the level below it), which the agent leaf
   * hashes in place of an organisation set's root.
   */
  topChildren(): bigint[] {
    return [0, 1, 2, 3].map((i) => this.node(this.depth - 1, i));
  }

  /** The siblings of the leaf at `index`, bottom level first. */
  path(index: number): QuadPath {
    this.checkIndex(index);
    return siblingsOf(this.depth, index, (level, i) => this.node(level, i));
  }
}
