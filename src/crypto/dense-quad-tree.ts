/**
 * A quaternary Poseidon Merkle tree whose leaves are written in order from position 0 (the agent
 * tree: a new agent's leaf goes to the next free position), equal node for node to a QuadTree
 * holding the same leaves. Since every level is then a dense prefix, level l keeps its first
 * ceil(size / 4^l) nodes in a WordArray, 32 bytes a node: about 43 bytes a leaf in all, where
 * QuadTree's Map of bigint nodes takes about 120 (30,000 leaves at depth 10); a copy is a
 * memcpy per level. Nodes past a level's prefix are its empty-subtree root Z_l.
 * @module
 */
import { assertField } from './field.ts';
import { poseidon } from './poseidon.ts';
import { emptyRoot, siblingsOf, type QuadPath } from './quad-tree.ts';
import { WordArray } from './word-array.ts';

export class DenseQuadTree {
  readonly depth: number;
  readonly capacity: number;
  // Level l's nodes from position 0 on; level `depth` holds the root.
  private levels: WordArray[];
  private readonly zeros: bigint[];

  /** @throws RangeError if depth is not an integer in [1, 26]. */
  constructor(depth: number) {
    if (!Number.isInteger(depth) || depth < 1 || depth > 26) throw new RangeError('depth must be an integer in [1, 26]');
    this.depth = depth;
    this.capacity = 4 ** depth;
    this.zeros = Array.from({ length: depth + 1 }, (_, l) => emptyRoot(l));
    this.levels = this.zeros.map(() => new WordArray(4));
  }

  /** Number of leaves written (positions 0 to size - 1). */
  get size(): number {
    return this.levels[0]!.length;
  }

  get root(): bigint {
    return this.node(this.depth, 0);
  }

  private node(level: number, i: number): bigint {
    const nodes = this.levels[level]!;
    return i < nodes.length ? nodes.get(i) : this.zeros[level]!;
  }

  private hashChildren(level: number, first: number): bigint {
    return poseidon([this.node(level, first), this.node(level, first + 1), this.node(level, first + 2), this.node(level, first + 3)]);
  }

  private checkIndex(index: number, end: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= end) throw new RangeError(`index must be an integer in [0, ${end})`);
  }

  /** The leaf at `index` (0 when empty). @throws RangeError for an index outside the tree. */
  get(index: number): bigint {
    this.checkIndex(index, this.capacity);
    return this.node(0, index);
  }

  /**
   * Sets the leaf at `index` (a written one, or the next: `size`) and recomputes its path.
   * @throws RangeError for another index; TypeError/RangeError for a non-field value.
   */
  set(index: number, value: bigint): void {
    this.checkIndex(index, Math.min(this.size + 1, this.capacity));
    assertField(value, 'value');
    let pos = index;
    let v = value;
    for (let level = 0; ; level++) {
      const nodes = this.levels[level]!;
      if (pos < nodes.length) nodes.set(pos, v);
      else nodes.push(v);
      if (level === this.depth) return;
      v = this.hashChildren(level, pos - (pos % 4));
      pos = Math.floor(pos / 4);
    }
  }

  /** The siblings of the leaf at `index` (written or not), bottom level first. */
  path(index: number): QuadPath {
    this.checkIndex(index, this.capacity);
    return siblingsOf(this.depth, index, (level, i) => this.node(level, i));
  }

  /** An independent copy (no hashing). */
  clone(): DenseQuadTree {
    const t = new DenseQuadTree(this.depth);
    t.levels = this.levels.map((l) => l.clone());
    return t;
  }

  /** Each level's nodes, 4 words each, leaves first (views, for snapshots). */
  levelWords(): BigUint64Array[] {
    return this.levels.map((l) => l.words());
  }

  /**
   * A tree from its levels as levelWords gives them (taken over, not copied), without hashing:
   * the caller vouches for the nodes (a snapshot's checksum and a checked root).
   * @throws RangeError unless there are depth + 1 levels of the sizes the leaves imply.
   */
  static fromLevelWords(depth: number, levels: BigUint64Array[]): DenseQuadTree {
    const t = new DenseQuadTree(depth);
    const size = (levels[0]?.length ?? 0) / 4;
    if (levels.length !== depth + 1 || size > t.capacity || levels.some((l, k) => l.length !== 4 * Math.ceil(size / 4 ** k))) {
      throw new RangeError('tree levels do not match the number of leaves');
    }
    t.levels = levels.map((l) => WordArray.adopt(4, l));
    return t;
  }

  /**
   * The tree holding `leaves` at positions 0 on (taken over, not copied), each node hashed once:
   * how a large tree is built in one go.
   * @throws RangeError if they do not fit the tree.
   */
  static fromLeaves(depth: number, leaves: WordArray): DenseQuadTree {
    const t = new DenseQuadTree(depth);
    if (leaves.width !== 4 || leaves.length > t.capacity) throw new RangeError('the leaves do not fit the tree');
    t.levels[0] = leaves;
    for (let level = 0; level < depth; level++) {
      const above = t.levels[level + 1]!;
      const count = Math.ceil(t.levels[level]!.length / 4);
      for (let i = 0; i < count; i++) above.push(t.hashChildren(level, 4 * i));
    }
    return t;
  }
}
