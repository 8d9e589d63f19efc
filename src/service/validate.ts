/**
 * Strict validation of request bodies: exact field sets (unknown fields refused), types and
 * ranges, with ZkTrustError('malformed' | 'out_of_range') naming the field.
 * @module
 */
import { ZkTrustError } from '../errors.ts';
import { FIELD_MODULUS } from '../crypto/field.ts';

export type Json = Record<string, unknown>;

/** Asserts `v` is a plain object with exactly the allowed keys (required ones present). */
export function object(v: unknown, name: string, required: readonly string[], optional: readonly string[] = []): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ZkTrustError('malformed', `${name} must be an object`);
  const o = v as Json;
  for (const k of Object.keys(o)) if (!required.includes(k) && !optional.includes(k)) throw new ZkTrustError('malformed', `${name}.${k} is not a known field`);
  for (const k of required) if (!(k in o)) throw new ZkTrustError('malformed', `${name}.${k} is required`);
  return o;
}

export function string(v: unknown, name: string, opts: { pattern?: RegExp; max?: number } = {}): string {
  if (typeof v !== 'string') throw new ZkTrustError('malformed', `${name} must be a string`);
  if (v.length > (opts.max ?? 256)) throw new ZkTrustError('out_of_range', `${name} is too long`);
  if (opts.pattern && !opts.pattern.test(v)) throw new ZkTrustError('malformed', `${name} has an invalid format`);
  return v;
}

/** A JSON integer in [min, max]. */
export function integer(v: unknown, name: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new ZkTrustError('malformed', `${name} must be an integer`);
  if (v < min || v > max) throw new ZkTrustError('out_of_range', `${name} must be in [${min}, ${max}]`);
  return v;
}

/** A decimal string of a canonical field element (below r). */
export function fieldElement(v: unknown, name: string): bigint {
  const s = string(v, name, { pattern: /^(0|[1-9][0-9]{0,77})$/, max: 78 });
  const x = BigInt(s);
  if (x >= FIELD_MODULUS) throw new ZkTrustError('out_of_range', `${name} must be below the field modulus`);
  return x;
}

export function hexBytes(v: unknown, name: string, length: number): Uint8Array {
  const s = string(v, name, { pattern: new RegExp(`^[0-9a-f]{${2 * length}}$`), max: 2 * length });
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

export function array(v: unknown, name: string, min: number, max: number): unknown[] {
  if (!Array.isArray(v)) throw new ZkTrustError('malformed', `${name} must be an array`);
  if (v.length < min) throw new ZkTrustError('malformed', `${name} needs at least ${min} element(s)`);
  if (v.length > max) throw new ZkTrustError('payload_too_large', `${name} holds at most ${max} elements`);
  return v;
}

export const DID_PATTERN = /^did:key:z[1-9A-HJ-NP-Za-km-z]{40,60}$/;
export const NONCE_PATTERN = /^[0-9a-f]{16,64}$/;
