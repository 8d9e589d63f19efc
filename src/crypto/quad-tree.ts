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

export class QuadTree {
  readonly depth: number;
  readonly capacity: number;
  // levels[0] holds leaves, levels[depth] the root; absent entries are empty subtrees.
  private readonly levels: Map<number, bigint>[];

  /** @throws RangeError if depth is not an integer in [1, 26]. */
  constructor(depth: number) {
    if (!Number.isInteger(depth) || depth < 1 || depth > 26) throw new RangeError('depth must be an integer in [1, 26]');
    this.depth = depth;
    this.capacity = 4 ** depth;
    this.levels = Array.from({ length: depth + 1 }, () => new Map());
    emptyRoot(depth);
  }

  get root(): bigint {
    return this.levels[this.depth]!.get(0) ?? emptyRoot(this.depth);
  }

  /** The stored (non-empty) nodes by level, leaves first: read-only, for snapshots. */
  storedLevels(): ReadonlyArray<ReadonlyMap<number, bigint>> {
    return this.levels;
  }

  /**
   * A tree from stored levels (as storedLevels returns them), without hashing: the caller
   * vouches for their consistency (a snapshot's checksum and a checked root).
   * @throws RangeError for the wrong number of levels.
   */
  static fromStoredLevels(depth: number, levels: Map<number, bigint>[]): QuadTree {
    const t = new QuadTree(depth);
    if (levels.length !== depth + 1) throw new RangeError(`expected ${depth + 1} levels, got ${levels.length}`);
    levels.forEach((m, i) => (t.levels[i] = m));
    return t;
  }

  /** An independent copy (no hashing). */
  clone(): QuadTree {
    const t = new QuadTree(this.depth);
    this.levels.forEach((m, i) => t.levels[i] = new Map(m));
    return t;
  }

  private node(level: number, index: number): bigint {
    return this.levels[level]!.get(index) ?? zeroCache[level]!;
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
      const map = this.levels[level]!;
      if (v === zeroCache[level]) map.delete(pos);
      else map.set(pos, v);
      const first = pos - (pos % 4);
      v = poseidon([this.node(level, first), this.node(level, first + 1), this.node(level, first + 2), this.node(level, first + 3)]);
      pos = Math.floor(pos / 4);
    }
    if (v === zeroCache[this.depth]) this.levels[this.depth]!.delete(0);
    else this.levels[this.depth]!.set(0, v);
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
