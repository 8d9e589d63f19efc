/**
 * A binary snapshot of an AgentState: every leaf, every stored tree node (the agent tree and
 * each agent's organisation set), the hash chain and the number of applied entries, followed
 * by the SHA-256 of everything before it. Restoring hashes nothing but the checksum, so a
 * restart costs time in proportion to the state, not to the log; the caller checks the
 * restored root and chain against the signed checkpoint they belong to. Pure: no I/O.
 *
 * Layout (integers little-endian u32, field elements 32 bytes big-endian), version 2 (policy v2
 * leaves; version 1 held v1 leaves and is refused):
 *   "ZKTS" version agentDepth orgDepth chain applied(u32 lo, u32 hi)
 *   leafCount, then per leaf: agent nextAgent summary(packed) ext, then its organisation tree
 *   the agent tree
 *   sha256 (32 bytes)
 * A tree is, per level from the leaves up: count, then (index u32, value) pairs.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { packSummary, unpackSummary, type AgentLeaf } from '../crypto/agent-leaf.ts';
import { FIELD_MODULUS } from '../crypto/field.ts';
import { levelOffsets } from '../crypto/quad-tree.ts';

export const SNAPSHOT_VERSION = 2;

/** A leaf as the state stores it: its organisation set's children come from the set itself. */
export type StoredLeaf = Omit<AgentLeaf, 'orgs'>;
const MAGIC = [0x5a, 0x4b, 0x54, 0x53]; // "ZKTS"

/**
 * The parts of a state a snapshot holds; each tree as its stored nodes, keyed by
 * levelOffsets(depth)[level] + index (QuadTree.storedNodes).
 */
export interface StateParts {
  agentDepth: number;
  orgDepth: number;
  chain: bigint;
  applied: number;
  leaves: StoredLeaf[];
  orgNodes: ReadonlyArray<ReadonlyMap<number, bigint>>;
  treeNodes: ReadonlyMap<number, bigint>;
}

class Writer {
  private buf = Buffer.alloc(1 << 16);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = Buffer.alloc(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  u32(x: number): void {
    this.room(4);
    this.view.setUint32(this.length, x, true);
    this.length += 4;
  }

  field(x: bigint): void {
    this.room(32);
    this.buf.write(x.toString(16).padStart(64, '0'), this.length, 32, 'hex');
    this.length += 32;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  result(): Uint8Array {
    return new Uint8Array(this.buf.subarray(0, this.length));
  }
}

class Reader {
  private readonly view: DataView;
  offset = 0;
  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private need(n: number): void {
    if (this.offset + n > this.buf.length) throw new RangeError('snapshot is truncated');
  }

  u32(): number {
    this.need(4);
    const x = this.view.getUint32(this.offset, true);
    this.offset += 4;
    return x;
  }

  field(): bigint {
    this.need(32);
    const x = BigInt('0x' + Buffer.from(this.buf.buffer, this.buf.byteOffset + this.offset, 32).toString('hex'));
    this.offset += 32;
    if (x >= FIELD_MODULUS) throw new RangeError('snapshot holds a non-canonical field element');
    return x;
  }
}

// The level of each stored key, counted per level in one pass, then each level's pairs: the
// layout of version 2, whatever order the nodes are held in.
function writeTree(w: Writer, nodes: ReadonlyMap<number, bigint>, depth: number): void {
  const offsets = levelOffsets(depth);
  const levelOf = (k: number) => {
    let l = 0;
    while (l < depth && k >= offsets[l + 1]!) l++;
    return l;
  };
  const counts = new Array<number>(depth + 1).fill(0);
  for (const k of nodes.keys()) counts[levelOf(k)]!++;
  for (let l = 0; l <= depth; l++) {
    w.u32(counts[l]!);
    if (counts[l] === 0) continue;
    const lo = offsets[l]!;
    const hi = l < depth ? offsets[l + 1]! : lo + 1;
    for (const [k, v] of nodes) {
      if (k < lo || k >= hi) continue;
      w.u32(k - lo);
      w.field(v);
    }
  }
}

function readTree(r: Reader, depth: number): Map<number, bigint> {
  const offsets = levelOffsets(depth);
  const nodes = new Map<number, bigint>();
  for (let l = 0; l <= depth; l++) {
    const n = r.u32();
    const capacity = 4 ** (depth - l);
    for (let k = 0; k < n; k++) {
      const i = r.u32();
      if (i >= capacity) throw new RangeError('snapshot tree index out of range');
      if (nodes.has(offsets[l]! + i)) throw new RangeError('snapshot holds a tree node twice');
      nodes.set(offsets[l]! + i, r.field());
    }
  }
  return nodes;
}

/** Encodes the parts of a state. */
export function encodeSnapshot(p: StateParts): Uint8Array {
  const w = new Writer();
  w.bytes(Uint8Array.from(MAGIC));
  w.u32(SNAPSHOT_VERSION);
  w.u32(p.agentDepth);
  w.u32(p.orgDepth);
  w.field(p.chain);
  w.u32(p.applied % 2 ** 32);
  w.u32(Math.floor(p.applied / 2 ** 32));
  w.u32(p.leaves.length);
  p.leaves.forEach((l, k) => {
    for (const x of [l.agent, l.nextAgent, packSummary(l.summary), l.ext]) w.field(x);
    writeTree(w, p.orgNodes[k]!, p.orgDepth);
  });
  writeTree(w, p.treeNodes, p.agentDepth);
  w.bytes(sha256(w.result()));
  return w.result();
}

/**
 * Decodes a snapshot.
 * @throws RangeError for a wrong magic, version, checksum or shape, or malformed content.
 */
export function decodeSnapshot(bytes: Uint8Array): Omit<StateParts, 'orgNodes' | 'treeNodes'> & { orgNodes: Map<number, bigint>[]; treeNodes: Map<number, bigint> } {
  if (!(bytes instanceof Uint8Array) || bytes.length < 32 + 4) throw new RangeError('snapshot is truncated');
  const body = bytes.subarray(0, bytes.length - 32);
  if (!Buffer.from(sha256(body)).equals(Buffer.from(bytes.subarray(bytes.length - 32)))) throw new RangeError('snapshot checksum does not match');
  if (MAGIC.some((m, i) => body[i] !== m)) throw new RangeError('not a zktrust state snapshot');
  const r = new Reader(body);
  r.offset = 4;
  const version = r.u32();
  if (version !== SNAPSHOT_VERSION) throw new RangeError(`snapshot version ${version} is not ${SNAPSHOT_VERSION}`);
  const agentDepth = r.u32();
  const orgDepth = r.u32();
  if (agentDepth < 1 || agentDepth > 26 || orgDepth < 1 || orgDepth > 16) throw new RangeError('snapshot shape out of range');
  const chain = r.field();
  const applied = r.u32() + r.u32() * 2 ** 32;
  const count = r.u32();
  if (count < 1 || count > 4 ** agentDepth) throw new RangeError('snapshot leaf count out of range');
  const leaves: StoredLeaf[] = [];
  const orgNodes: Map<number, bigint>[] = [];
  for (let k = 0; k < count; k++) {
    const [agent, nextAgent, summary, ext] = Array.from({ length: 4 }, () => r.field()) as [bigint, bigint, bigint, bigint];
    leaves.push({ agent, nextAgent, summary: unpackSummary(summary), ext });
    orgNodes.push(readTree(r, orgDepth));
  }
  const treeNodes = readTree(r, agentDepth);
  if (r.offset !== body.length) throw new RangeError('snapshot has trailing bytes');
  return { agentDepth, orgDepth, chain, applied, leaves, orgNodes, treeNodes };
}
