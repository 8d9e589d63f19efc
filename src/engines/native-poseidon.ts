/**
 * The native Poseidon of the ingestion path (native/poseidon-bn254.c): built once with the
 * system C compiler into build/native/ (named by the source's hash, so an edited source is
 * rebuilt), loaded as a Node-API addon and given the constants of src/crypto's table.
 *
 * It is an accelerator, never a dependency: `loadNativePoseidon` returns undefined where no
 * compiler or Node-API headers exist (or with ZKTRUST_NATIVE=0), and the service then hashes
 * with circomlibjs's WebAssembly Poseidon. Outputs equal src/crypto/poseidon.ts (the frozen
 * vectors and a property test check both).
 * @module
 */
import { loadAddon } from '../native/addon.ts';
import { FIELD_MODULUS } from '../crypto/field.ts';
import { PARTIAL_ROUNDS } from '../crypto/poseidon.ts';
import { POSEIDON_CONSTANTS } from '../crypto/poseidon-constants.ts';
import { RECORD_FIELDS, type OutcomeRecord } from '../crypto/commitment.ts';
import { TAG_RECORD } from '../crypto/tags.ts';

// Inputs of a record commitment: the tag, then the record's fields.
const RECORD_WIDTH = 1 + RECORD_FIELDS.length;

interface Addon {
  useAsm(on?: boolean): boolean;
  setParams(n: number, partial: number, c: Uint8Array, s: Uint8Array, m: Uint8Array, p: Uint8Array): void;
  hashMany(n: number, inputs: Uint8Array, output: Uint8Array): void;
  hashManyAsync(n: number, inputs: Uint8Array, output: Uint8Array): Promise<void>;
}

/**
 * Writes a canonical field element as 32 big-endian bytes at `offset` (the addon's layout;
 * one hex conversion, cheaper than limb-by-limb BigInt arithmetic).
 * @throws RangeError unless 0 <= x < r.
 */
export function writeField(buf: Uint8Array, offset: number, x: bigint): void {
  if (typeof x !== 'bigint' || x < 0n || x >= FIELD_MODULUS) throw new RangeError('not a canonical field element');
  Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).write(x.toString(16).padStart(64, '0'), offset, 32, 'hex');
}

/** Reads a 32-byte big-endian field element. */
export function readField(buf: Uint8Array, offset: number): bigint {
  return BigInt('0x' + Buffer.from(buf.buffer, buf.byteOffset + offset, 32).toString('hex'));
}

function fieldTable(hex: readonly string[]): Uint8Array {
  const out = new Uint8Array(32 * hex.length);
  hex.forEach((h, i) => writeField(out, 32 * i, BigInt('0x' + h)));
  return out;
}

/** Poseidon of fixed-width inputs laid out as 32-byte big-endian elements. */
export class NativePoseidon {
  private constructor(private readonly addon: Addon) {}

  /** Loads the addon and gives it the constants of every width in src/crypto's table. */
  static fromAddon(addon: Addon): NativePoseidon {
    for (const [n, c] of Object.entries(POSEIDON_CONSTANTS)) {
      const width = Number(n);
      addon.setParams(width, PARTIAL_ROUNDS[width - 1]!, fieldTable(c.C), fieldTable(c.S), fieldTable(c.M.flat()), fieldTable(c.P.flat()));
    }
    return new NativePoseidon(addon);
  }

  /**
   * Hashes `inputs.length / (32 n)` inputs of `n` elements each, in this thread.
   * @returns 32 bytes per input, big-endian.
   * @throws RangeError (code ERR_NON_CANONICAL) for an element >= r, or bad sizes.
   */
  hashMany(n: number, inputs: Uint8Array): Uint8Array {
    const out = new Uint8Array(inputs.length / n);
    this.addon.hashMany(n, inputs, out);
    return out;
  }

  /**
   * As hashMany, on the libuv thread pool, split in `parts` jobs (one per core, say) so that
   * the event loop stays free. Do not modify `inputs` until the promise settles.
   */
  async hashManyAsync(n: number, inputs: Uint8Array, parts = 1): Promise<Uint8Array> {
    const count = inputs.length / (32 * n);
    const out = new Uint8Array(32 * count);
    const per = Math.ceil(count / Math.max(1, parts));
    const jobs: Promise<void>[] = [];
    for (let k = 0; k < count; k += per) {
      const end = Math.min(count, k + per);
      jobs.push(this.addon.hashManyAsync(n, inputs.subarray(32 * n * k, 32 * n * end), out.subarray(32 * k, 32 * end)));
    }
    await Promise.all(jobs);
    return out;
  }

  /**
   * Asks for the addon's x86-64 assembly arithmetic (mulx/adx; the default where the CPU has
   * it) or its portable C arithmetic, for comparisons and tests: both give the same hashes.
   * Process-wide. @returns whether the assembly is in use after the call.
   */
  useAsm(on: boolean): boolean {
    return this.addon.useAsm(on);
  }

  /** The field arithmetic in use: 'asm' (mulx/adx) or 'portable' (C). */
  get arithmetic(): 'asm' | 'portable' {
    return this.addon.useAsm() ? 'asm' : 'portable';
  }

  /**
   * The commitments of range-checked records (as src/crypto's recordCommitment), in order,
   * in this thread: a CommitmentFn for buildSubmission.
   */
  recordCommitments(records: readonly OutcomeRecord[]): bigint[] {
    const buf = new Uint8Array(32 * RECORD_WIDTH * records.length);
    records.forEach((r, k) => [TAG_RECORD, ...RECORD_FIELDS.map((f) => r[f])].forEach((x, i) => writeField(buf, 32 * (RECORD_WIDTH * k + i), x)));
    const out = this.hashMany(RECORD_WIDTH, buf);
    return records.map((_, k) => readField(out, 32 * k));
  }

  // One input buffer per width and one output, reused: hash is called per tree node.
  private readonly scratch = new Map<number, Buffer>();
  private readonly out = Buffer.alloc(32);

  /** Poseidon of one input (as src/crypto/poseidon.ts's poseidon). */
  hash(inputs: readonly bigint[]): bigint {
    const n = inputs.length;
    let buf = this.scratch.get(n);
    if (!buf) this.scratch.set(n, (buf = Buffer.alloc(32 * n)));
    for (let i = 0; i < n; i++) writeField(buf, 32 * i, inputs[i]!);
    this.addon.hashMany(n, buf, this.out);
    return readField(this.out, 0);
  }
}

let hasher: NativePoseidon | undefined;

/**
 * The native hasher, built on first use; undefined (with the reason given to `onUnavailable`)
 * where it cannot be built or loaded, or when ZKTRUST_NATIVE=0.
 */
export async function loadNativePoseidon(onUnavailable?: (reason: string) => void): Promise<NativePoseidon | undefined> {
  const addon = await loadAddon<Addon>('poseidon-bn254', onUnavailable);
  if (!addon) return undefined;
  hasher ??= NativePoseidon.fromAddon(addon);
  return hasher;
}
