/**
 * Test helpers for circuits: compile a circom source (cached by content hash), compute
 * witnesses with circom's own witness generator, look signals up by name, tamper with a
 * witness and check it against the r1cs constraint by constraint.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WitnessCalculatorBuilder } from 'circom_runtime';
import { compileCircuit } from '../../src/build/circom.ts';
import { firstViolatedConstraint, parseR1cs, type R1cs } from '../../src/crypto/r1cs.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE = join(ROOT, 'build', 'test-circuits');

export type CircuitInput = Record<string, unknown>;

export interface TestCircuit {
  r1cs: R1cs;
  /** Map from a signal's full name (e.g. "main.out") to its witness wire, for wires kept by --O2. */
  wires: Map<string, number>;
  /** Computes the witness; rejects with circom's "Assert Failed" message when an assert fails. */
  witness(input: CircuitInput): Promise<bigint[]>;
  /** -1 if every constraint holds for `w`, else the first violated constraint's index. */
  check(w: readonly bigint[]): number;
  /** The wire of a named signal, or an error listing near names. */
  wire(name: string): number;
  r1csPath: string;
  wasmPath: string;
}

function collectIncludes(file: string, seen = new Set<string>()): string[] {
  if (seen.has(file)) return [];
  seen.add(file);
  const src = readFileSync(file, 'utf8');
  const out = [src];
  for (const m of src.matchAll(/include\s+"([^"]+)"/g)) {
    const inc = resolve(dirname(file), m[1]!);
    if (existsSync(inc)) out.push(...collectIncludes(inc, seen));
  }
  return out;
}

/**
 * Compiles `main` (a path to a .circom file with a `component main`), or a source string
 * written to build/test-circuits/, and loads it. Results are cached by the hash of the
 * sources (the file and everything it includes).
 */
export async function loadTestCircuit(main: string, opts: { source?: string } = {}): Promise<TestCircuit> {
  let file = resolve(ROOT, main);
  if (opts.source !== undefined) {
    const h = createHash('sha256').update(opts.source).digest('hex').slice(0, 16);
    file = join(CACHE, 'src', `${main}-${h}.circom`);
    await mkdir(dirname(file), { recursive: true });
    if (!existsSync(file)) await writeFile(file, opts.source);
  }
  const hash = createHash('sha256').update(collectIncludes(file).join('\0')).digest('hex').slice(0, 16);
  const outDir = join(CACHE, hash);
  const name = file.split('/').pop()!.replace(/\.circom$/, '');
  const r1csPath = join(outDir, `${name}.r1cs`);
  const wasmPath = join(outDir, `${name}.wasm`);
  const symPath = join(outDir, `${name}.sym`);
  if (!existsSync(r1csPath) || !existsSync(wasmPath) || !existsSync(symPath)) await compileCircuit(file, outDir);
  const r1cs = parseR1cs(new Uint8Array(await readFile(r1csPath)));
  const wires = new Map<string, number>();
  for (const line of (await readFile(symPath, 'utf8')).split('\n')) {
    const parts = line.split(',');
    if (parts.length < 4) continue;
    const wire = Number(parts[1]);
    if (wire >= 0) wires.set(parts.slice(3).join(','), wire);
  }
  const wasm = await readFile(wasmPath);
  // circom's runtime keeps its error text across calls: after a failed witness, start afresh
  // so that each error message speaks of its own input only.
  let calc = await WitnessCalculatorBuilder(wasm);
  let dirty = false;
  return {
    r1cs,
    wires,
    r1csPath,
    wasmPath,
    async witness(input) {
      if (dirty) calc = await WitnessCalculatorBuilder(wasm);
      dirty = true;
      const w = (await calc.calculateWitness(input, true)) as bigint[];
      dirty = false;
      return w;
    },
    check: (w) => firstViolatedConstraint(r1cs, w),
    wire(n) {
      const w = wires.get(n);
      if (w === undefined) {
        const near = [...wires.keys()].filter((k) => k.includes(n.split('.').pop()!)).slice(0, 10);
        throw new Error(`no kept wire named ${n}; similar: ${near.join(', ')}`);
      }
      return w;
    },
  };
}

/** A copy of `w` with the named wires replaced. */
export function tamper(c: TestCircuit, w: readonly bigint[], edits: Record<string, bigint>): bigint[] {
  const out = [...w];
  for (const [name, v] of Object.entries(edits)) out[c.wire(name)] = v;
  return out;
}

const LIB = join(ROOT, 'circuits', 'lib');
const libTemplates = new Map<string, string>();
function templateFiles(): Map<string, string> {
  if (libTemplates.size === 0) {
    for (const f of readdirSync(LIB).filter((n) => n.endsWith('.circom'))) {
      for (const m of readFileSync(join(LIB, f), 'utf8').matchAll(/^template (\w+)\(/gm)) libTemplates.set(m[1]!, f);
    }
  }
  return libTemplates;
}

/** The 1-based line of the first line of circuits/lib/<file> that contains `text`. */
export function lineIn(file: string, text: string): number {
  const lines = readFileSync(join(LIB, file), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(text));
  if (i < 0) throw new Error(`no line of ${file} contains ${text}`);
  if (lines.findIndex((l, k) => k > i && l.includes(text)) >= 0) throw new Error(`more than one line of ${file} contains ${text}`);
  return i + 1;
}

/**
 * Expects witness generation to stop at an assert whose innermost frame in a template of
 * circuits/lib (circomlib's templates skipped) is `template`, at the line of `file` that
 * contains `text`: the constraint meant to stop the attack, not just any.
 */
export async function expectAssertAt(c: TestCircuit, input: CircuitInput, template: string, file: string, text: string): Promise<void> {
  const err = await c.witness(input).then(
    () => undefined,
    (e: Error) => e,
  );
  if (!err) throw new Error(`witness generation should fail at ${template} (${file}: ${text})`);
  if (process.env.DEBUG_ASSERT) console.log(err.message);
  if (!/Assert Failed/.test(err.message)) throw err;
  const ours = templateFiles();
  const frames = [...err.message.split('\n\n')[0]!.matchAll(/Error in template (\w+?)_\d+ line: (\d+)/g)].map((m) => [m[1]!, Number(m[2])] as const);
  const first = frames.find(([t]) => ours.has(t));
  if (!first || first[0] !== template || ours.get(template) !== file || first[1] !== lineIn(file, text)) {
    throw new Error(`expected the assert at ${template} ${file}:${lineIn(file, text)} (${text}), got ${JSON.stringify(frames)}`);
  }
}
