/**
 * A sparse quaternary Poseidon Merkle tree, the TypeScript twin of circuits/lib/quad-merkle.circom.
 * Node = Poseidon(c0, c1, c2, c3); empty subtrees hash to Z_k (Z_0 = 0). Positions are base-4
 * numbers, least significant digit at the bottom level. Only non-empty nodes are stored.
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

export class QuadTree {
  readonly depth: number;
  readonly capacity: number;
  // Every stored (non-empty) node in one map, keyed by offsets[level] + index: one Map per
  // tree rather than one per level, since an agent's organisation set is a tree of its own
  // and five empty Maps alone cost about 1 KB (npm run bench -- --only state).
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

  /**
   * The stored (non-empty) nodes, keyed by levelOffsets(depth)[level] + index: read-only, for
   * snapshots. Keys below `capacity` are the leaves.
   */
  storedNodes(): ReadonlyMap<number, bigint> {
    return this.nodes;
  }

  /** The non-empty leaves, as [index, value]. */
  *leaves(): Generator<[number, bigint]> {
    for (const [k, v] of this.nodes) if (k < this.capacity) yield [k, v];
  }

  /**
   * A tree from stored nodes (as storedNodes returns them, the map is taken over), without
   * hashing: the caller vouches for their consistency (a snapshot's checksum and a checked
   * root).
   * @throws RangeError for a key outside the tree.
   */
  static fromStoredNodes(depth: number, nodes: Map<number, bigint>): QuadTree {
    const t = new QuadTree(depth);
    const end = t.offsets[depth]! + 1;
    for (const k of nodes.keys()) if (!Number.isSafeInteger(k) || k < 0 || k >= end) throw new RangeError('stored node outside the tree');
    t.nodes = nodes;
    return t;
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
    const out: QuadPath = [];
    let pos = index;
    for (let level = 0; level < this.depth; level++) {
      const first = pos - (pos % 4);
      const s: bigint[] = [];
      for (let j = 0; j < 4; j++) if (first + j !== pos) s.push(this.node(level, first + j));
      out.push(s);
      pos = Math.floor(pos / 4);
    }
    return out;
  }
}
