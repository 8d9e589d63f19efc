/**
 * The Solidity contract ABI, as much of it as zktrust's contracts use: unsigned integers,
 * addresses, booleans, bytes32, strings and bytes, fixed-size arrays and tuples (Solidity ABI
 * specification, "Formal Specification of the Encoding"). Pure: @noble/hashes only, no
 * Ethereum library, so that a relayer or a test can build calldata without one.
 * @module
 */
import { keccak_256 } from '@noble/hashes/sha3.js';
import { describe } from '../crypto/field.ts';

/** An ABI type: a name, a fixed-size array `{ array, length }` or a tuple `{ tuple }`. */
export type AbiType =
  | 'uint256'
  | 'uint8'
  | 'address'
  | 'bool'
  | 'bytes32'
  | 'string'
  | 'bytes'
  | { array: AbiType; length: number }
  | { tuple: readonly AbiType[] };

/** A value of an AbiType: bigint (or a safe integer) for integers, hex for address and bytes32. */
export type AbiValue = bigint | number | boolean | string | Uint8Array | readonly AbiValue[];

const WORD = 32;
const U256 = 1n << 256n;

/** The canonical name of a type, as it appears in a signature. */
export function typeName(t: AbiType): string {
  if (typeof t === 'string') return t;
  if ('array' in t) return `${typeName(t.array)}[${t.length}]`;
  return `(${t.tuple.map(typeName).join(',')})`;
}

/**
 * The 4-byte selector of a function or error signature, e.g. `verifyProof(uint256[2],...)`.
 * @example selector('transfer(address,uint256)') // 'a9059cbb'
 */
export function selector(signature: string): string {
  return hex(keccak_256(new TextEncoder().encode(signature))).slice(0, 8);
}

function isDynamic(t: AbiType): boolean {
  if (t === 'string' || t === 'bytes') return true;
  if (typeof t === 'string') return false;
  if ('array' in t) return isDynamic(t.array);
  return t.tuple.some(isDynamic);
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function fromHex(s: string, name = 'hex'): Uint8Array {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(s)) throw new TypeError(`${name} must be 0x-prefixed hex, got ${describe(s)}`);
  return Uint8Array.from(s.slice(2).match(/../g) ?? [], (h) => parseInt(h, 16));
}

function word(x: bigint): Uint8Array {
  const out = new Uint8Array(WORD);
  for (let i = WORD - 1; i >= 0 && x > 0n; i--, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
}

function uint(v: AbiValue, bits: number, name: string): bigint {
  let x: bigint;
  if (typeof v === 'bigint') x = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) x = BigInt(v);
  else if (typeof v === 'string' && /^(0|[1-9][0-9]*)$/.test(v)) x = BigInt(v);
  else throw new TypeError(`${name} must be a non-negative integer (bigint, safe integer or decimal string), got ${describe(v)}`);
  if (x < 0n || x >= 1n << BigInt(bits)) throw new RangeError(`${name} must be in [0, 2^${bits})`);
  return x;
}

function padded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / WORD) * WORD);
  out.set(bytes);
  return out;
}

const concat = (parts: readonly Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

function encodeOne(t: AbiType, v: AbiValue, name: string): Uint8Array {
  if (t === 'uint256') return word(uint(v, 256, name));
  if (t === 'uint8') return word(uint(v, 8, name));
  if (t === 'bool') {
    if (typeof v !== 'boolean') throw new TypeError(`${name} must be a boolean, got ${describe(v)}`);
    return word(v ? 1n : 0n);
  }
  if (t === 'address' || t === 'bytes32') {
    const b = typeof v === 'string' ? fromHex(v, name) : v;
    const size = t === 'address' ? 20 : 32;
    if (!(b instanceof Uint8Array) || b.length !== size) throw new TypeError(`${name} must be ${size} bytes`);
    const out = new Uint8Array(WORD);
    out.set(b, t === 'address' ? WORD - size : 0);
    return out;
  }
  if (t === 'string' || t === 'bytes') {
    let b: Uint8Array;
    if (t === 'string') {
      if (typeof v !== 'string') throw new TypeError(`${name} must be a string, got ${describe(v)}`);
      b = new TextEncoder().encode(v);
    } else {
      b = typeof v === 'string' ? fromHex(v, name) : (v as Uint8Array);
      if (!(b instanceof Uint8Array)) throw new TypeError(`${name} must be bytes`);
    }
    return concat([word(BigInt(b.length)), padded(b)]);
  }
  const types = 'array' in t ? Array.from({ length: t.length }, () => t.array) : t.tuple;
  if (!Array.isArray(v) || v.length !== types.length) throw new TypeError(`${name} must be an array of ${types.length} values`);
  return encodeTuple(types, v, name);
}

function encodeTuple(types: readonly AbiType[], values: readonly AbiValue[], name: string): Uint8Array {
  const heads: Uint8Array[] = [];
  const tails: Uint8Array[] = [];
  const headSize = types.reduce((n, t) => n + (isDynamic(t) ? WORD : staticSize(t)), 0);
  let tailSize = 0;
  types.forEach((t, i) => {
    const enc = encodeOne(t, values[i]!, `${name}[${i}]`);
    if (isDynamic(t)) {
      heads.push(word(BigInt(headSize + tailSize)));
      tails.push(enc);
      tailSize += enc.length;
    } else heads.push(enc);
  });
  return concat([...heads, ...tails]);
}

function staticSize(t: AbiType): number {
  if (typeof t === 'string') return WORD;
  if ('array' in t) return t.length * staticSize(t.array);
  return t.tuple.reduce((n, x) => n + staticSize(x), 0);
}

/**
 * ABI-encodes values of the given types (a function's arguments, a constructor's).
 * @throws TypeError / RangeError naming the argument that does not fit its type.
 * @example encodeParams(['uint256', 'bool'], [7n, true])
 */
export function encodeParams(types: readonly AbiType[], values: readonly AbiValue[]): Uint8Array {
  if (!Array.isArray(values) || values.length !== types.length) throw new TypeError(`expected ${types.length} values`);
  return encodeTuple(types, values, 'args');
}

/**
 * Calldata of a call: the function's selector, then its encoded arguments.
 * @example encodeCall('verifyProof', [{ array: 'uint256', length: 2 }, ...], [...])
 */
export function encodeCall(name: string, types: readonly AbiType[], values: readonly AbiValue[]): Uint8Array {
  const sel = selector(`${name}(${types.map(typeName).join(',')})`);
  return concat([Uint8Array.from(sel.match(/../g)!, (h) => parseInt(h, 16)), encodeParams(types, values)]);
}

/**
 * Reads return data or error arguments made only of static words (integers, booleans,
 * addresses, bytes32) as unsigned integers.
 * @throws RangeError if the data is not a whole number of words.
 */
export function decodeWords(data: Uint8Array): bigint[] {
  if (data.length % WORD !== 0) throw new RangeError('ABI data must be a whole number of 32-byte words');
  const out: bigint[] = [];
  for (let o = 0; o < data.length; o += WORD) out.push(data.subarray(o, o + WORD).reduce((x, b) => (x << 8n) | BigInt(b), 0n));
  return out;
}

/** Whether a bigint fits 256 bits unsigned (what an ABI word can carry). */
export const fitsWord = (x: bigint): boolean => x >= 0n && x < U256;

export { hex as bytesToHex, fromHex as hexToBytes };
