/**
 * A Groth16 prover over a proving key parsed once and held in memory.
 *
 * It computes the same proof as snarkjs's `groth16.prove` from the same zkey and witness
 * (same sections, same QAP layout, same multiexponentiations on ffjavascript's BN254), with
 * two differences that matter for speed:
 *
 * - the zkey is parsed once, not once per proof;
 * - the multiexponentiations run in native/msm-bn254.c where it builds (about twice as fast
 *   per core as ffjavascript's WebAssembly here);
 * - the QAP evaluations A(w), B(w) and C = A(w)·B(w) on the domain are computed in
 *   WebAssembly on the curve's worker threads (`qap_buildABC`, each thread a slice of the
 *   domain), where snarkjs 0.7 walks the coefficients in JavaScript, one field operation per
 *   call. For the production threshold circuit that walk was about a third of the proof.
 *
 * The proof's randomness r and s comes from node:crypto. Nothing here checks that the
 * witness satisfies the circuit: the witness calculator does (it refuses an unsatisfied
 * constraint), and a proof from a bad witness does not verify.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import * as snarkjs from 'snarkjs';
import { checkFieldHeader, leBytesToBigint, readSections, viewOf } from '../crypto/binfile.ts';
import { loadAddon } from '../native/addon.ts';

/** native/msm-bn254.c: G1 and G2 multiexponentiation in the zkey's and ffjavascript's layouts. */
interface MsmAddon {
  msm(group: 1 | 2, bases: Uint8Array, scalars: Uint8Array, out: Uint8Array): void;
  msmAsync(group: 1 | 2, bases: Uint8Array, scalars: Uint8Array, out: Uint8Array): Promise<void>;
}

const N8 = 32; // bytes per BN254 field element (both Fq and Fr)
const COEF_SIZE = 12 + N8; // matrix, constraint, signal (u32 each), then the coefficient
// The zkey sections a proof reads: header, Groth16 header, coefficients, A, B1, B2, C, H.
const ZKEY_SECTIONS = [1, 2, 4, 5, 6, 7, 8, 9];

/**
 * A Groth16 proof as snarkjs writes it (decimal strings, projective coordinates). Declared
 * here rather than taken from snarkjs, which has no types of its own: the package's
 * declarations must not name a module its users cannot type.
 */
export interface Groth16Proof {
  pi_a: string[];
  pi_b: string[][];
  pi_c: string[];
  protocol: 'groth16';
  curve: string;
}

/** A Groth16 proving key (snarkjs zkey), parsed. */
export class ProvingKey {
  readonly nVars: number;
  readonly nPublic: number;
  readonly domainSize: number;
  readonly power: number;
  /**
   * The QAP coefficients (section 4), partitioned once by constraint into one contiguous
   * slice of the domain per worker thread, so each thread receives and scans only its own.
   */
  private readonly qapSlices: { start: number; n: number; coeffs: Uint8Array; count: number }[];
  readonly pointsA: Uint8Array;
  readonly pointsB1: Uint8Array;
  readonly pointsB2: Uint8Array;
  readonly pointsC: Uint8Array;
  readonly pointsH: Uint8Array;
  /** Curve points in ffjavascript's internal form. */
  private readonly vk: { alpha1: unknown; beta1: unknown; beta2: unknown; delta1: unknown; delta2: unknown };

  private constructor(
    readonly curve: any,
    sections: Map<number, Uint8Array>,
    private readonly native: MsmAddon | undefined,
  ) {
    // readSections has checked that every one of ZKEY_SECTIONS is present.
    const need = (id: number): Uint8Array => sections.get(id)!;
    const kind = viewOf(need(1)).getUint32(0, true);
    if (kind !== 1) throw new Error('zkey is not a Groth16 key');
    const h = need(2);
    const hv = viewOf(h);
    let p = 0;
    const u32 = (): number => {
      const v = hv.getUint32(p, true);
      p += 4;
      return v;
    };
    const n8q = u32();
    const q = leBytesToBigint(h.subarray(p, p + n8q));
    p += n8q;
    const n8r = u32();
    const r = leBytesToBigint(h.subarray(p, p + n8r));
    p += n8r;
    if (n8q !== N8 || n8r !== N8 || q !== curve.q || r !== curve.r) throw new Error('zkey is not for BN254');
    this.nVars = u32();
    this.nPublic = u32();
    this.domainSize = u32();
    this.power = Math.log2(this.domainSize);
    if (!Number.isInteger(this.power)) throw new Error('zkey domain size is not a power of two');
    const g1 = (): unknown => {
      const v = curve.G1.fromRprLEM(h, p);
      p += 2 * N8;
      return v;
    };
    const g2 = (): unknown => {
      const v = curve.G2.fromRprLEM(h, p);
      p += 4 * N8;
      return v;
    };
    const alpha1 = g1();
    const beta1 = g1();
    const beta2 = g2();
    g2(); // gamma2: verification only
    const delta1 = g1();
    const delta2 = g2();
    this.vk = { alpha1, beta1, beta2, delta1, delta2 };

    const c = need(4);
    const nCoeffs = viewOf(c).getUint32(0, true);
    if (c.byteLength - 4 !== nCoeffs * COEF_SIZE) throw new Error('not a valid zkey file: coefficient section size');
    this.qapSlices = partitionCoefficients(c.subarray(4), nCoeffs, this.domainSize, Math.max(1, Math.min(curve.tm.concurrency as number, Math.floor(this.domainSize / 1024))));
    const sized = (id: number, bytes: number): Uint8Array => {
      const s = need(id);
      if (s.byteLength !== bytes) throw new Error(`not a valid zkey file: section ${id} size`);
      return s;
    };
    this.pointsA = sized(5, this.nVars * 2 * N8);
    this.pointsB1 = sized(6, this.nVars * 2 * N8);
    this.pointsB2 = sized(7, this.nVars * 4 * N8);
    this.pointsC = sized(8, (this.nVars - this.nPublic - 1) * 2 * N8);
    this.pointsH = sized(9, this.domainSize * 2 * N8);
  }

  /**
   * Parses a zkey on snarkjs's shared BN254 instance (the same worker threads as snarkjs).
   * The multiexponentiations run in native/msm-bn254.c when it can be built (unless
   * `native` is false, or ZKTRUST_NATIVE=0), else in ffjavascript's WebAssembly.
   */
  static async parse(zkey: Uint8Array, opts: { native?: boolean; onNativeUnavailable?: (reason: string) => void } = {}): Promise<ProvingKey> {
    const curve = await snarkjs.curves.getCurveFromName('bn128');
    const native = opts.native === false ? undefined : await loadAddon<MsmAddon>('msm-bn254', opts.onNativeUnavailable);
    return new ProvingKey(curve, readSections(zkey, 'zkey', ZKEY_SECTIONS), native);
  }

  /** Whether the multiexponentiations run natively. */
  get nativeMsm(): boolean {
    return this.native !== undefined;
  }

  /**
   * Proves from a witness in wtns form (as circom's witness calculator writes it).
   * @returns the proof and the public signals, as snarkjs returns them.
   * @throws Error if the witness is not for this key's field or has the wrong length.
   */
  async prove(wtns: Uint8Array): Promise<{ proof: Groth16Proof; publicSignals: string[] }> {
    const { curve } = this;
    const { Fr, G1, G2 } = curve;
    const witness = this.witnessOf(wtns);

    const [a, b, c] = await this.evaluateQap(witness);
    // H's evaluations on the odd points of the doubled domain, as snarkjs lays out the H
    // query: interpolate, shift by the 2n-th root of unity, evaluate.
    const shift = this.power === Fr.s ? Fr.shift : Fr.w[this.power + 1];
    const odd = async (evals: Uint8Array): Promise<Uint8Array> => Fr.fft(await Fr.batchApplyKey(await Fr.ifft(evals, '', ''), Fr.e(1), shift), '', '');
    const [aOdd, bOdd, cOdd] = [await odd(a), await odd(b), await odd(c)];
    const h = await this.joinAbc(aOdd, bOdd, cOdd);

    const [msmA, msmB1, msmB2, msmC, msmH] = await Promise.all([
      this.multiExp(1, this.pointsA, witness),
      this.multiExp(1, this.pointsB1, witness),
      this.multiExp(2, this.pointsB2, witness),
      this.multiExp(1, this.pointsC, witness.subarray((this.nPublic + 1) * N8)),
      this.multiExp(1, this.pointsH, h),
    ]);

    const r = randomScalar(Fr);
    const s = randomScalar(Fr);
    const { alpha1, beta1, beta2, delta1, delta2 } = this.vk;
    const piA = G1.add(G1.add(msmA, alpha1), G1.timesFr(delta1, r));
    const piB = G2.add(G2.add(msmB2, beta2), G2.timesFr(delta2, s));
    const b1 = G1.add(G1.add(msmB1, beta1), G1.timesFr(delta1, s));
    let piC = G1.add(msmC, msmH);
    piC = G1.add(piC, G1.timesFr(piA, s));
    piC = G1.add(piC, G1.timesFr(b1, r));
    piC = G1.add(piC, G1.timesFr(delta1, Fr.neg(Fr.mul(r, s))));

    const str = (v: bigint): string => v.toString();
    const proof: Groth16Proof = {
      pi_a: G1.toObject(G1.toAffine(piA)).map(str),
      pi_b: G2.toObject(G2.toAffine(piB)).map((p: bigint[]) => p.map(str)),
      pi_c: G1.toObject(G1.toAffine(piC)).map(str),
      protocol: 'groth16',
      curve: 'bn128',
    };
    const publicSignals: string[] = [];
    for (let i = 1; i <= this.nPublic; i++) publicSignals.push(leBytesToBigint(witness.subarray(i * N8, (i + 1) * N8)).toString());
    return { proof, publicSignals };
  }

  /**
   * sum scalars[i] * bases[i] on G1 or G2, natively (the points split between the cores,
   * partial sums added here) or with ffjavascript. The result is in ffjavascript's Jacobian form.
   */
  async multiExp(group: 1 | 2, bases: Uint8Array, scalars: Uint8Array): Promise<unknown> {
    const G = group === 1 ? this.curve.G1 : this.curve.G2;
    if (!this.native) return G.multiExpAffine(bases, scalars);
    const pointBytes = 2 * group * N8;
    const n = bases.byteLength / pointBytes;
    const parts = Math.max(1, Math.min(availableParallelism(), Math.floor(n / 512)));
    const per = Math.ceil(n / parts);
    const outs: Uint8Array[] = [];
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < n; i += per) {
      const end = Math.min(n, i + per);
      const out = new Uint8Array(3 * group * N8);
      outs.push(out);
      jobs.push(this.native.msmAsync(group, bases.subarray(pointBytes * i, pointBytes * end), scalars.subarray(N8 * i, N8 * end), out));
    }
    await Promise.all(jobs);
    return outs.reduce((acc, p) => G.add(acc, p), G.zero);
  }

  /** The witness values (section 2 of a wtns file), after checking field and length. */
  private witnessOf(wtns: Uint8Array): Uint8Array {
    const sections = readSections(wtns, 'wtns', [1, 2]);
    const head = sections.get(1)!;
    const values = sections.get(2)!;
    const n = viewOf(head).getUint32(checkFieldHeader(head, this.curve.r, 'witness'), true);
    if (n !== this.nVars || values.byteLength !== n * N8) {
      throw new Error(`invalid witness length: the circuit has ${this.nVars} signals, the witness ${n}`);
    }
    return values;
  }

  /**
   * A(w), B(w) and their pointwise product on the domain (Montgomery form, as the FFTs
   * take them). Each of the curve's threads takes one contiguous slice of the domain with
   * the coefficients of its constraints (qapSlices).
   */
  private async evaluateQap(witness: Uint8Array): Promise<[Uint8Array, Uint8Array, Uint8Array]> {
    const tasks = this.qapSlices.map(({ start, n, coeffs, count }) =>
      this.curve.tm.queueAction([
        { cmd: 'ALLOCSET', var: 0, buff: coeffs },
        { cmd: 'ALLOCSET', var: 1, buff: witness },
        { cmd: 'ALLOC', var: 2, len: n * N8 },
        { cmd: 'ALLOC', var: 3, len: n * N8 },
        { cmd: 'ALLOC', var: 4, len: n * N8 },
        {
          cmd: 'CALL',
          fnName: 'qap_buildABC',
          params: [{ var: 0 }, { val: count }, { var: 1 }, { var: 2 }, { var: 3 }, { var: 4 }, { val: start }, { val: n }, { val: 0 }, { val: this.nVars }],
        },
        { cmd: 'GET', out: 0, var: 2, len: n * N8 },
        { cmd: 'GET', out: 1, var: 3, len: n * N8 },
        { cmd: 'GET', out: 2, var: 4, len: n * N8 },
      ]) as Promise<Uint8Array[]>,
    );
    const parts = await Promise.all(tasks);
    const out: [Uint8Array, Uint8Array, Uint8Array] = [0, 1, 2].map(() => new Uint8Array(this.domainSize * N8)) as never;
    parts.forEach((part, i) => {
      for (let m = 0; m < 3; m++) out[m]!.set(part[m]!, this.qapSlices[i]!.start * N8);
    });
    return out;
  }

  /** A·B - C on the odd points, out of Montgomery form: the H multiexp's scalars. */
  private async joinAbc(a: Uint8Array, b: Uint8Array, c: Uint8Array): Promise<Uint8Array> {
    const n = this.domainSize;
    const [res] = (await this.curve.tm.queueAction([
      { cmd: 'ALLOCSET', var: 0, buff: a },
      { cmd: 'ALLOCSET', var: 1, buff: b },
      { cmd: 'ALLOCSET', var: 2, buff: c },
      { cmd: 'ALLOC', var: 3, len: n * N8 },
      { cmd: 'CALL', fnName: 'qap_joinABC', params: [{ var: 0 }, { var: 1 }, { var: 2 }, { val: n }, { var: 3 }] },
      { cmd: 'CALL', fnName: 'frm_batchFromMontgomery', params: [{ var: 3 }, { val: n }, { var: 3 }] },
      { cmd: 'GET', out: 0, var: 3, len: n * N8 },
    ])) as Uint8Array[];
    return res!;
  }
}

/**
 * Splits `count` coefficient entries into `slices` contiguous constraint ranges of the
 * domain, keeping each entry's order within its range (the order of the additions).
 * @throws Error if an entry names a matrix other than A or B, or a constraint outside the domain.
 */
function partitionCoefficients(coeffs: Uint8Array, count: number, domainSize: number, slices: number) {
  const per = Math.ceil(domainSize / slices);
  const view = viewOf(coeffs);
  const counts = new Array<number>(slices).fill(0);
  for (let i = 0; i < count; i++) {
    const m = view.getUint32(i * COEF_SIZE, true);
    const c = view.getUint32(i * COEF_SIZE + 4, true);
    if (m > 1 || c >= domainSize) throw new Error('not a valid zkey file: coefficient out of range');
    counts[Math.floor(c / per)]!++;
  }
  const out = counts.map((n, k) => ({ start: k * per, n: Math.min(per, domainSize - k * per), coeffs: new Uint8Array(n * COEF_SIZE), count: 0 }));
  for (let i = 0; i < count; i++) {
    const slice = out[Math.floor(view.getUint32(i * COEF_SIZE + 4, true) / per)]!;
    slice.coeffs.set(coeffs.subarray(i * COEF_SIZE, (i + 1) * COEF_SIZE), slice.count++ * COEF_SIZE);
  }
  return out;
}

/** A uniform nonzero scalar from node:crypto (64 bytes reduced mod r: bias below 2^-250). */
function randomScalar(Fr: any): unknown {
  for (;;) {
    const v = leBytesToBigint(randomBytes(64)) % (Fr.p as bigint);
    if (v !== 0n) return Fr.e(v);
  }
}
