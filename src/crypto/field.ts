/**
 * The BN254 scalar field: the modulus, reduction and the checks every input to a hash or a
 * circuit goes through. Pure, no dependencies.
 * @module
 */

/** The BN254 scalar field modulus r (the order of the Groth16 group). */
export const FIELD_MODULUS =
  21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Reduces any bigint into [0, r). */
export function mod(a: bigint, m: bigint = FIELD_MODULUS): bigint {
  const x = a % m;
  return x < 0n ? x + m : x;
}

/**
 * Asserts that `x` is a canonical field element (a bigint in [0, r)).
 * @throws TypeError if `x` is not a bigint; RangeError if it is outside [0, r).
 * @example assertField(5n, 'salt')
 */
export function assertField(x: unknown, name: string): asserts x is bigint {
  if (typeof x !== 'bigint') throw new TypeError(`${name} must be a bigint, got ${describe(x)}`);
  if (x < 0n || x >= FIELD_MODULUS) throw new RangeError(`${name} must be in [0, r), got ${x}`);
}

/**
 * Asserts that `x` is a bigint in [0, 2^bits).
 * @throws TypeError if `x` is not a bigint; RangeError if it does not fit `bits` bits.
 * @example assertBits(3n, 32, 'kept')
 */
export function assertBits(x: unknown, bits: number, name: string): asserts x is bigint {
  if (typeof x !== 'bigint') throw new TypeError(`${name} must be a bigint, got ${describe(x)}`);
  if (x < 0n || x >= 1n << BigInt(bits)) throw new RangeError(`${name} must be in [0, 2^${bits}), got ${x}`);
}

/** A short, safe description of a value for error messages (never its full contents). */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'symbol') return 'a symbol';
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (x instanceof Uint8Array) return `Uint8Array(${x.length})`;
  if (typeof x === 'object') return 'an object';
  if (typeof x === 'string') return `a string of length ${x.length}`;
  return `${typeof x} ${String(x)}`;
}

/** Argument checks for a caller's own options: TypeError for a wrong type, RangeError for a wrong value. */
export function assertString(x: unknown, name: string): asserts x is string {
  if (typeof x !== 'string') throw new TypeError(`${name} must be a string, got ${describe(x)}`);
}
/** A non-empty string (the context hash, for one, is defined only for those: src/crypto/context.ts). */
export function assertNonEmpty(x: unknown, name: string): asserts x is string {
  assertString(x, name);
  if (x.length === 0) throw new RangeError(`${name} must not be empty`);
}
export function assertInt(x: unknown, name: string, min: number, max: number): asserts x is number {
  if (typeof x !== 'number' || !Number.isInteger(x)) throw new TypeError(`${name} must be an integer, got ${describe(x)}`);
  if (x < min || x > max) throw new RangeError(`${name} must be in [${min}, ${max}]`);
}
export function assertObject(x: unknown, name: string): asserts x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new TypeError(`${name} must be an object, got ${describe(x)}`);
}

/** Big-endian bytes to an unsigned bigint. */
export function bytesToBigint(bytes: Uint8Array): bigint {
  let x = 0n;
  for (const b of bytes) x = (x << 8n) | BigInt(b);
  return x;
}

/** An unsigned bigint to `length` big-endian bytes. @throws RangeError if it does not fit. */
export function bigintToBytes(x: bigint, length: number): Uint8Array {
  if (x < 0n || x >= 1n << BigInt(8 * length)) throw new RangeError(`value does not fit ${length} bytes`);
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}
