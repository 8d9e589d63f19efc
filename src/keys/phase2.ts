/**
 * Groth16 phase 2 as snarkjs records it in a .zkey: the contribution records of section 10
 * (the "MPC parameters"), making one contribution in the field, and checking that one key
 * is another with exactly one more honest-looking contribution.
 *
 * A contribution multiplies delta by a secret k and divides every point of the L and H
 * sections by k. Its record holds the new delta (deltaAfter) and a proof of knowledge of k:
 * a point g1_s, g1_sx = k g1_s, and g2_spx = k g2_sp where g2_sp is derived from the
 * transcript hash (blake2b-512 of the circuit hash, the earlier records' public keys, g1_s
 * and g1_sx) exactly as snarkjs's `hashToG2` does, so `snarkjs zkey verify` accepts what we
 * write and we accept what snarkjs writes.
 *
 * `checkContribution(prev, next)` is the incremental check a ceremony coordinator runs on an
 * uploaded key: every section other than delta, L, H and the records byte-identical to the
 * previous key; the earlier records unchanged and one record added; the record's proof of
 * knowledge and that its deltaAfter is k times the previous delta; delta1 and delta2 with the
 * same ratio; every uploaded L and H point on the curve; and the L and H sections divided by
 * the same k, by a random linear combination (128-bit coefficients drawn after the upload)
 * and two pairings. `snarkjs zkey verify` re-checks the final key from the r1cs and the
 * powers of tau.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { blake2b } from '@noble/hashes/blake2.js';
import { ChaCha, buildBn128 } from 'ffjavascript';
import { readSections, viewOf } from '../crypto/binfile.ts';
import { FIELD_MODULUS, bytesToBigint, mod } from '../crypto/field.ts';
import { loadAddon } from '../native/addon.ts';
import { G1_SIZE, G2_SIZE, keyCurve, readGrothHeader, replaceSections, type Curve, type GrothHeader, type Point } from './zkey-file.ts';

let threaded: Promise<Curve> | undefined;
/** BN254 with ffjavascript's worker threads, for the multiexponentiations of checkContribution. */
function threadedCurve(): Promise<Curve> {
  threaded ??= buildBn128();
  return threaded;
}
/** Ends the worker threads of checkContribution's curve, so that the calling process can exit. */
export async function closePhase2Curve(): Promise<void> {
  const c = threaded;
  threaded = undefined;
  if (c) await (await c).terminate();
}

export interface ContributionRecord {
  deltaAfter: Point;
  g1S: Point;
  g1Sx: Point;
  g2Spx: Point;
  transcript: Uint8Array;
  /** 0: a participant's random contribution; 1: a public beacon. */
  type: number;
  name?: string;
  /** Beacon only: iterations exponent and the beacon value. */
  numIterationsExp?: number;
  beaconHash?: Uint8Array;
}

export interface MpcParams {
  csHash: Uint8Array;
  contributions: ContributionRecord[];
}


/**
 * Parses section 10 of a zkey.
 * @throws Error if the section is truncated, has trailing bytes or unsorted parameters.
 */
export function parseMpcParams(curve: Curve, section: Uint8Array): MpcParams {
  const v = viewOf(section);
  let p = 0;
  const take = (n: number) => {
    if (p + n > section.byteLength) throw new Error('contribution records are truncated');
    const b = section.subarray(p, p + n);
    p += n;
    return b;
  };
  const u32 = () => {
    take(4);
    return v.getUint32(p - 4, true);
  };
  const csHash = Uint8Array.from(take(64));
  const n = u32();
  if (n > 4096) throw new Error('too many contribution records');
  const contributions: ContributionRecord[] = [];
  for (let i = 0; i < n; i++) {
    const c: ContributionRecord = {
      deltaAfter: curve.G1.fromRprLEM(take(G1_SIZE), 0),
      g1S: curve.G1.fromRprLEM(take(G1_SIZE), 0),
      g1Sx: curve.G1.fromRprLEM(take(G1_SIZE), 0),
      g2Spx: curve.G2.fromRprLEM(take(G2_SIZE), 0),
      transcript: Uint8Array.from(take(64)),
      type: u32(),
    };
    const len = u32();
    const params = take(len);
    let q = 0;
    let last = 0;
    while (q < params.length) {
      const t = params[q++]!;
      if (t <= last) throw new Error('contribution parameters must be sorted');
      last = t;
      if (q >= params.length) throw new Error('contribution parameter is truncated');
      if (t === 1 || t === 3) {
        const l = params[q++]!;
        if (q + l > params.length) throw new Error('contribution parameter is truncated');
        const b = params.subarray(q, q + l);
        q += l;
        if (t === 1) c.name = new TextDecoder().decode(b);
        else c.beaconHash = Uint8Array.from(b);
      } else if (t === 2) {
        c.numIterationsExp = params[q++]!;
      } else throw new Error(`unknown contribution parameter ${t}`);
    }
    contributions.push(c);
  }
  if (p !== section.byteLength) throw new Error('trailing bytes after the contribution records');
  return { csHash, contributions };
}

function lem(curve: Curve, group: 'G1' | 'G2', point: Point): Uint8Array {
  const b = new Uint8Array(group === 'G1' ? G1_SIZE : G2_SIZE);
  curve[group].toRprLEM(b, 0, point);
  return b;
}
function uncompressed(curve: Curve, group: 'G1' | 'G2', point: Point): Uint8Array {
  const b = new Uint8Array(group === 'G1' ? G1_SIZE : G2_SIZE);
  curve[group].toRprUncompressed(b, 0, point);
  return b;
}

/** The bytes of one record in section 10 (snarkjs's layout). */
export function encodeContribution(curve: Curve, c: ContributionRecord): Uint8Array {
  const params: number[] = [];
  if (c.name) {
    const name = new TextEncoder().encode(c.name.slice(0, 64));
    params.push(1, name.length, ...name);
  }
  if (c.type === 1) params.push(2, c.numIterationsExp!, 3, c.beaconHash!.length, ...c.beaconHash!);
  const out = new Uint8Array(3 * G1_SIZE + G2_SIZE + 64 + 8 + params.length);
  let p = 0;
  for (const part of [lem(curve, 'G1', c.deltaAfter), lem(curve, 'G1', c.g1S), lem(curve, 'G1', c.g1Sx), lem(curve, 'G2', c.g2Spx), c.transcript]) {
    out.set(part, p);
    p += part.length;
  }
  const v = new DataView(out.buffer);
  v.setUint32(p, c.type, true);
  v.setUint32(p + 4, params.length, true);
  out.set(params, p + 8);
  return out;
}

/** Section 10's bytes: the circuit hash, the count and every record. */
export function encodeMpcParams(curve: Curve, mpc: MpcParams): Uint8Array {
  const records = mpc.contributions.map((c) => encodeContribution(curve, c));
  const out = new Uint8Array(68 + records.reduce((s, r) => s + r.length, 0));
  out.set(mpc.csHash, 0);
  new DataView(out.buffer).setUint32(64, records.length, true);
  let p = 68;
  for (const r of records) {
    out.set(r, p);
    p += r.length;
  }
  return out;
}

function hashPublicKey(h: ReturnType<typeof blake2b.create>, curve: Curve, c: ContributionRecord): void {
  h.update(uncompressed(curve, 'G1', c.deltaAfter));
  h.update(uncompressed(curve, 'G1', c.g1S));
  h.update(uncompressed(curve, 'G1', c.g1Sx));
  h.update(uncompressed(curve, 'G2', c.g2Spx));
  h.update(c.transcript);
}

/** The contribution hash snarkjs prints for a record (blake2b-512 of its public key). */
export function contributionHash(curve: Curve, c: ContributionRecord): string {
  const h = blake2b.create({ dkLen: 64 });
  hashPublicKey(h, curve, c);
  return Buffer.from(h.digest()).toString('hex');
}

/** The transcript hash a new record must carry after `previous`, for its g1_s and g1_sx. */
function transcriptFor(curve: Curve, csHash: Uint8Array, previous: readonly ContributionRecord[], g1S: Point, g1Sx: Point): Uint8Array {
  const h = blake2b.create({ dkLen: 64 });
  h.update(csHash);
  for (const c of previous) hashPublicKey(h, curve, c);
  h.update(uncompressed(curve, 'G1', g1S));
  h.update(uncompressed(curve, 'G1', g1Sx));
  return h.digest();
}

/** snarkjs's hashToG2: a G2 point from a ChaCha stream seeded by the hash's first 32 bytes. */
export function hashToG2(curve: Curve, hash: Uint8Array): Point {
  const v = new DataView(hash.buffer, hash.byteOffset, hash.byteLength);
  const seed = Array.from({ length: 8 }, (_, i) => v.getUint32(4 * i, false));
  return curve.G2.fromRng(new ChaCha(seed));
}

/** A uniform non-zero field element from OS randomness (64 bytes reduced mod r). */
export function randomScalar(random: (n: number) => Uint8Array = randomBytes): bigint {
  for (;;) {
    const k = mod(bytesToBigint(random(64)), FIELD_MODULUS);
    if (k !== 0n && k !== 1n) return k;
  }
}

/**
 * A type-0 contribution record for the secret `k` after `previous` records, whose last
 * delta (G1) is `prevDelta1` (the generator for the first contribution).
 */
export function makeContribution(curve: Curve, opts: { csHash: Uint8Array; previous: readonly ContributionRecord[]; prevDelta1: Point; k: bigint; name?: string; random?: (n: number) => Uint8Array }): ContributionRecord {
  const { Fr, G1, G2 } = curve;
  const kFr = Fr.e(opts.k);
  const s = randomScalar(opts.random);
  const g1S = G1.toAffine(G1.timesFr(G1.g, Fr.e(s)));
  const g1Sx = G1.toAffine(G1.timesFr(g1S, kFr));
  const transcript = transcriptFor(curve, opts.csHash, opts.previous, g1S, g1Sx);
  const g2Sp = hashToG2(curve, transcript);
  return {
    deltaAfter: G1.toAffine(G1.timesFr(opts.prevDelta1, kFr)),
    g1S,
    g1Sx,
    g2Spx: G2.toAffine(G2.timesFr(g2Sp, kFr)),
    transcript,
    type: 0,
    ...(opts.name ? { name: opts.name } : {}),
  };
}

async function sameRatio(curve: Curve, g1a: Point, g1b: Point, g2a: Point, g2b: Point): Promise<boolean> {
  if (curve.G1.isZero(g1a) || curve.G1.isZero(g1b) || curve.G2.isZero(g2a) || curve.G2.isZero(g2b)) return false;
  // e(g1a, g2b) = e(g1b, g2a): g1b / g1a = g2b / g2a.
  return curve.pairingEq(g1a, g2b, curve.G1.neg(g1b), g2a);
}

/**
 * Checks the records' chain from the first: each transcript follows the circuit hash and the
 * earlier records, each proof of knowledge holds, each deltaAfter is the previous delta times
 * the record's secret (starting from the generator), and the last deltaAfter is `delta1`.
 * @returns the contribution hashes in order, or the first failure.
 */
export async function checkRecordChain(curve: Curve, mpc: MpcParams, delta1: Point): Promise<{ ok: true; hashes: string[] } | { ok: false; reason: string }> {
  let cur = curve.G1.g;
  const hashes: string[] = [];
  for (const [i, c] of mpc.contributions.entries()) {
    if (!curve.G1.isValid(c.deltaAfter) || !curve.G1.isValid(c.g1S) || !curve.G1.isValid(c.g1Sx) || !curve.G2.isValid(c.g2Spx)) return { ok: false, reason: `contribution ${i + 1}: a point is not on its curve` };
    const want = transcriptFor(curve, mpc.csHash, mpc.contributions.slice(0, i), c.g1S, c.g1Sx);
    if (Buffer.compare(Buffer.from(want), Buffer.from(c.transcript)) !== 0) return { ok: false, reason: `contribution ${i + 1}: its transcript hash does not follow the earlier contributions` };
    const g2Sp = hashToG2(curve, c.transcript);
    if (!(await sameRatio(curve, c.g1S, c.g1Sx, g2Sp, c.g2Spx))) return { ok: false, reason: `contribution ${i + 1}: its proof of knowledge does not hold` };
    if (!(await sameRatio(curve, cur, c.deltaAfter, g2Sp, c.g2Spx))) return { ok: false, reason: `contribution ${i + 1}: its delta does not follow the previous delta` };
    if (curve.G1.eq(cur, c.deltaAfter)) return { ok: false, reason: `contribution ${i + 1}: multiplies delta by 1 (no contribution)` };
    hashes.push(contributionHash(curve, c));
    cur = c.deltaAfter;
  }
  if (!curve.G1.eq(cur, delta1)) return { ok: false, reason: 'the key\'s delta is not the last contribution\'s' };
  return { ok: true, hashes };
}

const inG2Subgroup = (curve: Curve, p: Point) => curve.G2.isValid(p) && curve.G2.isZero(curve.G2.timesScalar(p, FIELD_MODULUS));

/** Random linear combination of the points of a section with the given 16-byte scalars. */
function combine(curve: Curve, points: Uint8Array, scalars: Uint8Array): Promise<Point> {
  return curve.G1.multiExpAffine(points, scalars, false, '');
}

export type ContributionCheck = { ok: true; contributionHash: string; name?: string; contributions: number } | { ok: false; reason: string };

/**
 * Whether `next` is `prev` with exactly one more type-0 contribution (see the module
 * comment). Never throws for a bad `next`: returns { ok: false, reason }.
 * @throws Error only if `prev` itself is not a valid zkey (the coordinator's own file).
 */
export async function checkContribution(prev: Uint8Array, next: Uint8Array): Promise<ContributionCheck> {
  const curve = await threadedCurve();
  const a = readSections(prev, 'zkey', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const ha = readGrothHeader(curve, a.get(2)!);
  const mpcA = parseMpcParams(curve, a.get(10)!);
  let b: Map<number, Uint8Array>;
  let hb: GrothHeader;
  let mpcB: MpcParams;
  try {
    b = readSections(next, 'zkey', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    if (b.size !== a.size) return { ok: false, reason: 'the key has other sections than the previous key' };
    hb = readGrothHeader(curve, b.get(2)!);
    mpcB = parseMpcParams(curve, b.get(10)!);
  } catch (e) {
    return { ok: false, reason: `not a valid key: ${(e as Error).message}` };
  }
  // Everything but delta, L, H and the records is the previous key's, byte for byte.
  for (const id of [1, 3, 4, 5, 6, 7]) {
    if (Buffer.compare(Buffer.from(a.get(id)!), Buffer.from(b.get(id)!)) !== 0) return { ok: false, reason: `section ${id} differs from the previous key` };
  }
  const h2a = a.get(2)!;
  const h2b = b.get(2)!;
  if (h2a.byteLength !== h2b.byteLength || Buffer.compare(Buffer.from(h2a.subarray(0, ha.deltaAt)), Buffer.from(h2b.subarray(0, hb.deltaAt))) !== 0) return { ok: false, reason: 'the key header differs from the previous key beyond delta' };
  if (Buffer.compare(Buffer.from(mpcA.csHash), Buffer.from(mpcB.csHash)) !== 0) return { ok: false, reason: 'the circuit hash differs from the previous key' };
  if (mpcB.contributions.length !== mpcA.contributions.length + 1) return { ok: false, reason: 'the key must add exactly one contribution' };
  const encA = a.get(10)!;
  const prefix = encodeMpcParams(curve, { csHash: mpcA.csHash, contributions: mpcA.contributions });
  const prefixB = encodeMpcParams(curve, { csHash: mpcB.csHash, contributions: mpcB.contributions.slice(0, -1) });
  if (Buffer.compare(Buffer.from(prefix.subarray(68)), Buffer.from(prefixB.subarray(68))) !== 0 || prefix.byteLength !== encA.byteLength) return { ok: false, reason: 'the earlier contributions were altered' };
  const added = mpcB.contributions.at(-1)!;
  if (added.type !== 0) return { ok: false, reason: 'a participant\'s contribution must be random (type 0), not a beacon' };
  if (!curve.G1.isValid(hb.delta1) || curve.G1.isZero(hb.delta1) || !inG2Subgroup(curve, hb.delta2)) return { ok: false, reason: 'delta is not a valid point' };
  if (curve.G1.eq(hb.delta1, ha.delta1)) return { ok: false, reason: 'delta is unchanged: a contribution of 1 adds nothing' };
  // delta2 has the ratio of delta1 (it is what verifiers use).
  if (!(await sameRatio(curve, curve.G1.g, hb.delta1, curve.G2.g, hb.delta2))) return { ok: false, reason: 'delta1 and delta2 disagree' };
  const chainStart = mpcA.contributions.length > 0 ? mpcA.contributions.at(-1)!.deltaAfter : curve.G1.g;
  if (!curve.G1.eq(chainStart, ha.delta1)) throw new Error('the previous key is inconsistent: its delta is not its last contribution\'s');
  // The new record: its transcript, proof of knowledge and delta.
  const want = transcriptFor(curve, mpcB.csHash, mpcA.contributions, added.g1S, added.g1Sx);
  if (Buffer.compare(Buffer.from(want), Buffer.from(added.transcript)) !== 0) return { ok: false, reason: 'the contribution\'s transcript hash does not follow the earlier contributions' };
  if (![added.deltaAfter, added.g1S, added.g1Sx].every((p) => curve.G1.isValid(p)) || !curve.G2.isValid(added.g2Spx)) return { ok: false, reason: 'a point of the contribution is not on its curve' };
  const g2Sp = hashToG2(curve, added.transcript);
  if (!(await sameRatio(curve, added.g1S, added.g1Sx, g2Sp, added.g2Spx))) return { ok: false, reason: 'the contribution\'s proof of knowledge does not hold' };
  if (!(await sameRatio(curve, ha.delta1, added.deltaAfter, g2Sp, added.g2Spx))) return { ok: false, reason: 'the new delta does not follow from the previous one and the contribution' };
  if (!curve.G1.eq(added.deltaAfter, hb.delta1)) return { ok: false, reason: 'the key\'s delta is not the contribution\'s' };
  // L and H divided by the same secret: e(sum r_i P_i, delta_prev) = e(sum r_i P'_i, delta_next).
  for (const id of [8, 9]) {
    const pa = a.get(id)!;
    const pb = b.get(id)!;
    if (pa.byteLength !== pb.byteLength || pa.byteLength % G1_SIZE !== 0) return { ok: false, reason: `section ${id} has another size than the previous key's` };
    const n = pa.byteLength / G1_SIZE;
    if (n === 0) continue;
    for (let i = 0; i < n; i++) {
      const pt = curve.G1.fromRprLEM(pb, i * G1_SIZE);
      if (!curve.G1.isValid(pt)) return { ok: false, reason: `section ${id}: point ${i} is not on the curve` };
    }
    const scalars = randomBytes(16 * n);
    const ra = await combine(curve, pa, scalars);
    const rb = await combine(curve, pb, scalars);
    if (!(await curve.pairingEq(ra, ha.delta2, curve.G1.neg(rb), hb.delta2))) return { ok: false, reason: `section ${id} is not the previous key's divided by the contribution` };
  }
  return { ok: true, contributionHash: contributionHash(curve, added), ...(added.name ? { name: added.name } : {}), contributions: mpcB.contributions.length };
}

/** Reads a zkey's delta (G1) and contribution records. @throws Error if it is not a Groth16 zkey. */
export async function readPhase2(bytes: Uint8Array): Promise<{ mpc: MpcParams; delta1: Point; csHash: string }> {
  const curve = await keyCurve();
  const s = readSections(bytes, 'zkey', [1, 2, 10]);
  if (viewOf(s.get(1)!).getUint32(0, true) !== 1) throw new Error('not a Groth16 key');
  const h = readGrothHeader(curve, s.get(2)!);
  const mpc = parseMpcParams(curve, s.get(10)!);
  return { mpc, delta1: h.delta1, csHash: Buffer.from(mpc.csHash).toString('hex') };
}

/** native/msm-bn254.c's scaleAsync: out[i] = scalar * bases[i], affine points in the zkey's layout. */
interface ScaleAddon {
  scaleAsync(group: 1 | 2, bases: Uint8Array, scalar: Uint8Array, out: Uint8Array): Promise<void>;
}

function scalarBytesLE(k: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0, v = k; i < 32; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/**
 * k * P for every affine point P of a zkey section (LE Montgomery, (0, 0) for infinity), on
 * every core: natively where the addon builds, else with ffjavascript's WebAssembly.
 * @param native false to force the WebAssembly path (tests compare both).
 */
export async function scalePoints(group: 1 | 2, points: Uint8Array, k: bigint, opts: { native?: boolean } = {}): Promise<Uint8Array> {
  const size = group === 1 ? G1_SIZE : G2_SIZE;
  if (points.byteLength % size !== 0) throw new RangeError('points must be whole affine points');
  const n = points.byteLength / size;
  const out = new Uint8Array(points.byteLength);
  if (n === 0) return out;
  const addon = opts.native === false ? undefined : await loadAddon<ScaleAddon>('msm-bn254');
  if (addon) {
    const scalar = scalarBytesLE(mod(k, FIELD_MODULUS));
    const jobs = Math.max(1, Math.min(availableParallelism() * 2, Math.ceil(n / 1024)));
    const per = Math.ceil(n / jobs);
    await Promise.all(
      Array.from({ length: jobs }, (_, j) => {
        const from = j * per * size;
        const to = Math.min(n, (j + 1) * per) * size;
        return from < to ? addon.scaleAsync(group, points.subarray(from, to), scalar, out.subarray(from, to)) : Promise.resolve();
      }),
    );
    return out;
  }
  const curve = await threadedCurve();
  const G = group === 1 ? curve.G1 : curve.G2;
  const r: Uint8Array = await G.batchApplyKey(points, curve.Fr.e(mod(k, FIELD_MODULUS)), curve.Fr.e(1n), 'affine', 'affine');
  out.set(r);
  return out;
}

/**
 * One phase-2 contribution to a proving key, as `snarkjs zkey contribute` makes it (and
 * snarkjs verifies it), but with the L and H points divided by the secret natively: the
 * secret k is drawn from OS randomness (mixed with `entropy` when given), delta becomes
 * k delta, every point of L and H is divided by k, and a record with the proof of knowledge
 * of k is appended. k lives only in this call.
 * @returns the new key's bytes and its contribution hash (for the contributor to publish).
 * @throws Error if `prev` is not a Groth16 zkey with a consistent contribution history.
 */
export async function contribute(prev: Uint8Array, opts: { name?: string; entropy?: string; random?: (n: number) => Uint8Array; native?: boolean } = {}): Promise<{ bytes: Uint8Array; contributionHash: string }> {
  const curve = await keyCurve();
  const sections = readSections(prev, 'zkey', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  if (viewOf(sections.get(1)!).getUint32(0, true) !== 1) throw new Error('not a Groth16 key');
  const header = readGrothHeader(curve, sections.get(2)!);
  const mpc = parseMpcParams(curve, sections.get(10)!);
  const lastDelta = mpc.contributions.at(-1)?.deltaAfter ?? curve.G1.g;
  if (!curve.G1.eq(lastDelta, header.delta1)) throw new Error('the key is inconsistent: its delta is not its last contribution\'s');
  const random = opts.random ?? randomBytes;
  const mixed = (n: number) => {
    // OS randomness, hashed with the contributor's own text: k is as good as the better of the two.
    const h = blake2b.create({ dkLen: 64 });
    h.update(random(n));
    if (opts.entropy) h.update(new TextEncoder().encode(opts.entropy));
    return h.digest().subarray(0, n);
  };
  let k = randomScalar(mixed);
  const record = makeContribution(curve, { csHash: mpc.csHash, previous: mpc.contributions, prevDelta1: header.delta1, k, name: opts.name, random });
  const kInv = modInverse(k);
  const delta2 = curve.G2.toAffine(curve.G2.timesFr(header.delta2, curve.Fr.e(k)));
  k = 0n;
  const l = await scalePoints(1, sections.get(8)!, kInv, { native: opts.native });
  const h = await scalePoints(1, sections.get(9)!, kInv, { native: opts.native });
  const groth = Uint8Array.from(sections.get(2)!);
  curve.G1.toRprLEM(groth, header.deltaAt, record.deltaAfter);
  curve.G2.toRprLEM(groth, header.deltaAt + G1_SIZE, delta2);
  const replaced = new Map<number, Uint8Array>([
    [2, groth],
    [8, l],
    [9, h],
    [10, encodeMpcParams(curve, { csHash: mpc.csHash, contributions: [...mpc.contributions, record] })],
  ]);
  return { bytes: replaceSections(prev, 'zkey', replaced), contributionHash: contributionHash(curve, record) };
}

function modInverse(a: bigint): bigint {
  let r = 1n;
  let x = mod(a, FIELD_MODULUS);
  for (let e = FIELD_MODULUS - 2n; e > 0n; e >>= 1n, x = (x * x) % FIELD_MODULUS) if (e & 1n) r = (r * x) % FIELD_MODULUS;
  return r;
}
