/**
 * Canonical bytes for signatures: a deterministic JSON encoding (object keys sorted, no
 * whitespace, bigints as decimal strings) after a domain-separation line per message type,
 * so a signature over one kind of message can never be replayed as another.
 * @module
 */
import { describe } from './field.ts';

function encode(v: unknown, path: string): string {
  if (v === null || typeof v === 'boolean') return JSON.stringify(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return JSON.stringify(v.toString());
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new RangeError(`${path} must be a finite number`);
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return '[' + v.map((x, i) => encode(x, `${path}[${i}]`)).join(',') + ']';
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    return '{' + Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => JSON.stringify(k) + ':' + encode(o[k], `${path}.${k}`)).join(',') + '}';
  }
  throw new TypeError(`${path} cannot be signed: ${describe(v)}`);
}

/**
 * Deterministic JSON text of a plain value.
 * @throws TypeError for values other than null, booleans, finite numbers, strings, bigints,
 *   arrays and plain objects; RangeError for non-finite numbers.
 */
export function canonicalJson(value: unknown): string {
  return encode(value, 'value');
}

/** The bytes signed for a message of `type`: "zktrust/v1/<type>\n" + canonical JSON. */
export function signingBytes(type: string, value: unknown): Uint8Array {
  if (!/^[a-z][a-z0-9-]{0,40}$/.test(type)) throw new RangeError('message type must be a short lowercase identifier');
  return new TextEncoder().encode(`zktrust/v1/${type}\n${canonicalJson(value)}`);
}
