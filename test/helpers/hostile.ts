/**
 * Hostile values from the API's own schemas (src/protocol/schemas.ts), for the fuzzer: for
 * each zod schema, an arbitrary that mixes values that satisfy it (where they can be
 * generated), values just outside its bounds, values of the wrong type, and junk. Walks zod 4's
 * definitions: object (fields dropped, added, replaced), string (its pattern via
 * fc.stringMatching, its length bounds), number (its bounds, non-integers), array (its length
 * bounds), union, literal, enum, optional, pipe (transforms), record.
 */
import fc from 'fast-check';
import type { z } from 'zod';

const FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Junk of every JSON type, and the classic hostile strings. */
export const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, -0, 1e308, -1e308, 2 ** 53, '', ' ', '0', '-1', '__proto__', 'constructor', '%00', '\u0000', '\ud800', '../../etc/passwd', '<script>', "' OR 1=1 --", 'x'.repeat(5000), '9'.repeat(100), (FIELD - 1n).toString(), FIELD.toString(), (FIELD + 1n).toString(), (2n ** 256n).toString()),
  fc.string({ maxLength: 80 }),
  fc.integer(),
  fc.double({ noNaN: true }),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 4 }),
  fc.constant({ __proto__: { polluted: true } }),
);

type Def = { type: string; [k: string]: any };
const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;
const checksOf = (d: Def): Array<Record<string, any>> => (d.checks ?? []).map((c: { _zod: { def: Record<string, any> } }) => c._zod.def);

/** An arbitrary of values around `schema`: mostly plausible, often hostile. */
export function hostileFor(schema: z.ZodType, depth = 0): fc.Arbitrary<unknown> {
  const d = defOf(schema);
  const around = (valid: fc.Arbitrary<unknown>) => fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: junk });
  switch (d.type) {
    case 'object': {
      const shape: Record<string, z.ZodType> = d.shape;
      if (depth > 4) return junk;
      const fields = Object.fromEntries(Object.entries(shape).map(([k, v]) => [k, hostileFor(v, depth + 1)]));
      const record = fc.record(fields, { requiredKeys: [] });
      const extra = fc.tuple(record, fc.string({ maxLength: 12 }), junk).map(([o, k, v]) => ({ ...(o as object), [k]: v }));
      return around(fc.oneof({ weight: 4, arbitrary: record }, { weight: 1, arbitrary: extra }));
    }
    case 'string': {
      const c = checksOf(d);
      const pattern = c.find((x) => x.format === 'regex')?.pattern as RegExp | undefined;
      const max = c.find((x) => x.check === 'max_length')?.maximum as number | undefined;
      const min = c.find((x) => x.check === 'min_length')?.minimum as number | undefined;
      const options: fc.Arbitrary<unknown>[] = [fc.string({ maxLength: 40 })];
      if (pattern) options.push(fc.stringMatching(pattern), fc.stringMatching(pattern).map((s) => s + 'x'), fc.stringMatching(pattern).map((s) => s.toUpperCase()));
      if (max !== undefined) options.push(fc.constant('a'.repeat(max + 1)));
      if (min !== undefined && min > 0) options.push(fc.constant('a'.repeat(min - 1)));
      return around(fc.oneof(...options));
    }
    case 'number': {
      const c = checksOf(d);
      const lo = c.find((x) => x.check === 'greater_than')?.value as number | undefined;
      const hi = c.find((x) => x.check === 'less_than')?.value as number | undefined;
      const edges = [lo, hi].filter((x): x is number => typeof x === 'number').flatMap((x) => [x - 1, x, x + 1]);
      return around(fc.oneof(fc.integer({ min: lo !== undefined ? Math.max(lo, -(2 ** 31)) : -(2 ** 31), max: hi !== undefined ? Math.min(hi, 2 ** 31) : 2 ** 31 }), fc.constantFrom(...edges, 0.5, -1, 2 ** 53, 1e21)));
    }
    case 'array': {
      const c = checksOf(d);
      const max = (c.find((x) => x.check === 'max_length')?.maximum as number | undefined) ?? 8;
      const element = depth > 4 ? junk : hostileFor(d.element, depth + 1);
      return around(fc.oneof({ weight: 5, arbitrary: fc.array(element, { maxLength: Math.min(max, 6) }) }, { weight: 1, arbitrary: fc.constant(Array.from({ length: Math.min(max + 1, 2000) }, () => ({}))) }));
    }
    case 'union':
      return around(fc.oneof(...(d.options as z.ZodType[]).map((o) => hostileFor(o, depth + 1))));
    case 'literal':
      return around(fc.constantFrom(...(d.values as unknown[])));
    case 'enum':
      return around(fc.constantFrom(...Object.values(d.entries as Record<string, unknown>)));
    case 'optional':
    case 'nullable':
    case 'default':
      return fc.oneof(fc.constant(undefined), hostileFor(d.innerType, depth));
    case 'pipe':
      return hostileFor(d.in, depth);
    case 'record':
      return around(fc.dictionary(fc.string({ maxLength: 10 }), hostileFor(d.valueType, depth + 1), { maxKeys: 3 }));
    default:
      return junk;
  }
}
