/**
 * A binary snapshot of an AgentState: its typed arrays one after the other, the hash chain and
 * the number of applied entries, followed by the SHA-256 of everything before it. Restoring
 * copies the arrays back and hashes nothing but the checksum, so a restart costs little more
 * than reading the file (a million agents: `npm run bench -- --only state --agents 1000000`);
 * the caller checks the restored root and chain against the signed checkpoint they belong to.
 * Pure: no I/O.
 *
 * Layout, version 3 (versions 1 and 2, lists of bigints, are refused: a snapshot only shortens
 * recovery, which replays the log without one). Header integers u32 little-endian, the chain
 * 32 bytes big-endian:
 *   "ZKTS" version agentDepth orgDepth chain applied(lo, hi) n m
 * then the arrays, each element little-endian, least significant 64-bit word first, for n leaf
 * positions (the sentinel first) and m organisation slots:
 *   agents      n x 4 words   the agent of each position
 *   sorted      n x u32       positions by increasing agent
 *   summaries   n x 3 words   packed summaries
 *   tops        n x 16 words  the four top children of each organisation set
 *   orgHeads    n x u32       each position's newest slot + 1 (0: none)
 *   orgNext     m x u32       the same position's slot before it + 1 (0: none)
 *   orgIndexes  m x u32       the slot's organisation index
 *   orgSlots    m x 4 words   the packed slot
 *   tree        the agent tree's levels, leaves first: ceil(n / 4^l) x 4 words at level l
 *   sha256 (32 bytes)
 * @module
 */
import { createHash } from 'node:crypto';
import { FIELD_MODULUS } from '../crypto/field.ts';
import { TALLY_BITS } from '../crypto/tags.ts';
import type { SlotListParts } from './slot-lists.ts';

export const SNAPSHOT_VERSION = 3;

const MAGIC = [0x5a, 0x4b, 0x54, 0x53]; // "ZKTS"
const HEADER = 4 + 4 * 3 + 32 + 4 * 4;
const CHECKSUM = 32;
const FIELD_WORDS = 4;
/** 64-bit words of a packed summary (four tallies of TALLY_BITS). */
export const SUMMARY_WORDS = Math.ceil((4 * TALLY_BITS) / 64);
const TOP_WORDS = 4 * FIELD_WORDS;

/** The parts of a state a snapshot holds (the arrays of src/state/agent-state.ts). */
export interface StateParts {
  agentDepth: number;
  orgDepth: number;
  chain: bigint;
  applied: number;
  /** The agent of each leaf position, the sentinel 0 first (4 words each). */
  agents: BigUint64Array;
  /** Positions by increasing agent. */
  sorted: Uint32Array;
  /** Packed summaries by position (3 words each). */
  summaries: BigUint64Array;
  /** The four top children of each position's organisation set (16 words each). */
  tops: BigUint64Array;
  /** Each position's organisation slots (4 words a value). */
  orgs: SlotListParts;
  /** The agent tree's levels, leaves first (4 words a node). */
  tree: BigUint64Array[];
}

type Section = Uint32Array | BigUint64Array;
type SectionKind = typeof Uint32Array | typeof BigUint64Array;
type Arrays = Omit<StateParts, 'agentDepth' | 'orgDepth' | 'chain' | 'applied'>;

// The arrays in layout order.
function sections(p: Arrays): Section[] {
  return [p.agents, p.sorted, p.summaries, p.tops, p.orgs.heads, p.orgs.next, p.orgs.keys, p.orgs.values, ...p.tree];
}

// The inverse of sections.
function fromSections(s: Section[]): Arrays {
  const [agents, sorted, summaries, tops, heads, next, keys, values, ...tree] = s as [BigUint64Array, Uint32Array, BigUint64Array, BigUint64Array, Uint32Array, Uint32Array, Uint32Array, BigUint64Array, ...BigUint64Array[]];
  return { agents, sorted, summaries, tops, orgs: { heads, next, keys, values }, tree };
}

// The kind and length of each array, in layout order, for n positions and m slots.
function layout(agentDepth: number, n: number, m: number): Array<[SectionKind, number]> {
  return [
    [BigUint64Array, FIELD_WORDS * n], [Uint32Array, n], [BigUint64Array, SUMMARY_WORDS * n], [BigUint64Array, TOP_WORDS * n],
    [Uint32Array, n], [Uint32Array, m], [Uint32Array, m], [BigUint64Array, FIELD_WORDS * m],
    ...Array.from({ length: agentDepth + 1 }, (_, l): [SectionKind, number] => [BigUint64Array, FIELD_WORDS * Math.ceil(n / 4 ** l)]),
  ];
}

function assertLittleEndian(): void {
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) throw new Error('snapshots are little-endian: this machine is not');
}

/** The bytes of a typed array (a view). */
export const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest();

/** A typed array's constructor: the kind of a section. */
export type ArrayKind = { new (length: number): ArrayBufferView; readonly BYTES_PER_ELEMENT: number };

/**
 * The body of a snapshot: all but its trailing SHA-256, which it checks (and this machine is
 * little-endian, as snapshots are).
 * @throws RangeError if it is shorter than `header`, its checksum does not match or it does
 *   not start with `magic`.
 */
export function checkedBody(bytes: Uint8Array, magic: readonly number[], header: number, what: string): Uint8Array {
  assertLittleEndian();
  if (!(bytes instanceof Uint8Array) || bytes.length < header + CHECKSUM) throw new RangeError('snapshot is truncated');
  const body = bytes.subarray(0, bytes.length - CHECKSUM);
  if (!sha256(body).equals(bytes.subarray(body.length))) throw new RangeError('snapshot checksum does not match');
  if (magic.some((m, i) => body[i] !== m)) throw new RangeError(`not a zktrust ${what} snapshot`);
  return body;
}

/**
 * Fresh arrays of the given kinds and lengths, copied from `body` one after the other from
 * offset `at`.
 * @throws RangeError unless they end exactly where `body` does.
 */
export function copySections(body: Uint8Array, at: number, kinds: ReadonlyArray<[ArrayKind, number]>): ArrayBufferView[] {
  const size = at + kinds.reduce((k, [kind, length]) => k + kind.BYTES_PER_ELEMENT * length, 0);
  if (body.length < size) throw new RangeError('snapshot is truncated');
  if (body.length > size) throw new RangeError('snapshot has trailing bytes');
  return kinds.map(([kind, length]) => {
    const a = new kind(length);
    bytesOf(a).set(body.subarray(at, at + a.byteLength));
    at += a.byteLength;
    return a;
  });
}

/** Encodes the parts of a state. */
export function encodeSnapshot(p: StateParts): Uint8Array {
  assertLittleEndian();
  const parts = sections(p);
  const body = HEADER + parts.reduce((n, a) => n + a.byteLength, 0);
  const out = new Uint8Array(body + CHECKSUM);
  const view = new DataView(out.buffer);
  out.set(MAGIC);
  [SNAPSHOT_VERSION, p.agentDepth, p.orgDepth].forEach((x, i) => view.setUint32(4 + 4 * i, x, true));
  Buffer.from(out.buffer).write(p.chain.toString(16).padStart(64, '0'), 16, 32, 'hex');
  [p.applied % 2 ** 32, Math.floor(p.applied / 2 ** 32), p.agents.length / FIELD_WORDS, p.orgs.next.length].forEach((x, i) => view.setUint32(48 + 4 * i, x, true));
  let at = HEADER;
  for (const a of parts) {
    out.set(bytesOf(a), at);
    at += a.byteLength;
  }
  out.set(sha256(out.subarray(0, body)), body);
  return out;
}

/**
 * Decodes a snapshot into fresh arrays; what the arrays mean together (order, lists) is for
 * AgentState.fromSnapshot to check.
 * @throws RangeError for a wrong magic, version, checksum, shape or size, or a non-canonical
 *   field element.
 */
export function decodeSnapshot(bytes: Uint8Array): StateParts {
  const body = checkedBody(bytes, MAGIC, HEADER, 'state');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const u32 = (at: number) => view.getUint32(at, true);
  if (u32(4) !== SNAPSHOT_VERSION) throw new RangeError(`snapshot version ${u32(4)} is not ${SNAPSHOT_VERSION}: the state is rebuilt from the log instead`);
  const [agentDepth, orgDepth] = [u32(8), u32(12)];
  if (agentDepth < 1 || agentDepth > 26 || orgDepth < 1 || orgDepth > 7) throw new RangeError('snapshot shape out of range');
  const chain = BigInt('0x' + Buffer.from(body.subarray(16, 48)).toString('hex'));
  if (chain >= FIELD_MODULUS) throw new RangeError('snapshot holds a non-canonical field element');
  const [n, m] = [u32(56), u32(60)];
  if (n < 1 || n > 4 ** agentDepth) throw new RangeError('snapshot leaf count out of range');
  const arrays = copySections(body, HEADER, layout(agentDepth, n, m)) as Section[];
  const p: StateParts = { agentDepth, orgDepth, chain, applied: u32(48) + u32(52) * 2 ** 32, ...fromSections(arrays) };
  for (const a of [p.agents, p.tops, p.orgs.values, ...p.tree]) assertCanonical(a);
  return p;
}

const R_TOP = Number(FIELD_MODULUS >> 224n);

// Every element of `words` (4 words each) below the field modulus: most are decided by their
// top 32 bits alone.
function assertCanonical(words: BigUint64Array): void {
  const h = new Uint32Array(words.buffer, words.byteOffset, 2 * words.length);
  for (let i = 7; i < h.length; i += 8) {
    if (h[i]! < R_TOP) continue;
    const o = (i - 7) / 2;
    const x = words[o]! | (words[o + 1]! << 64n) | (words[o + 2]! << 128n) | (words[o + 3]! << 192n);
    if (x >= FIELD_MODULUS) throw new RangeError('snapshot holds a non-canonical field element');
  }
}
