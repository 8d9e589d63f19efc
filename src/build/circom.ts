/**
 * Compiles a circom file with the pinned circom2 (WebAssembly) compiler. Output goes to a
 * temporary folder first and is moved into place only when compilation succeeded, so a
 * crashed build never leaves a half-written r1cs beside a stale wasm.
 * @module
 */
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { CIRCOMLIB_IN_PACKAGE, PACKAGE_ROOT } from '../package-root.ts';
import { circuitSources } from '../prover/artifacts.ts';

const require = createRequire(import.meta.url);
const CIRCOM_CLI = join(dirname(require.resolve('circom2/package.json')), 'cli.js');
/** The package's folder: circuits/ is below it (src/package-root.ts). */
export const PROJECT_ROOT = PACKAGE_ROOT;

export interface CompiledCircuit {
  name: string;
  r1cs: string;
  wasm: string;
  sym: string;
  dir: string;
}

export interface CompileOptions {
  /** Extra flags, e.g. ['--inspect']. `--O2` is always passed. */
  flags?: string[];
  /** Called with the compiler's stdout and stderr text. */
  onOutput?: (text: string) => void;
}

/** Runs circom2 with `args` in `cwd`; resolves with stdout+stderr, rejects on a non-zero exit. */
export function runCircom(args: string[], cwd: string): Promise<string> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [CIRCOM_CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', rej);
    child.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`circom exited with ${code}:\n${out}`))));
  });
}

/**
 * Compiles `source` (a .circom file) into `outDir`/<name>.r1cs, <name>.wasm and <name>.sym.
 * @throws Error with the compiler's output if compilation fails.
 */
export async function compileCircuit(source: string, outDir: string, opts: CompileOptions = {}): Promise<CompiledCircuit> {
  const name = basename(source, '.circom');
  const src = resolve(source);
  await mkdir(outDir, { recursive: true });
  const tmp = await mkdtemp(join(resolve(outDir), `.tmp-${name}-`));
  try {
    // circom2 (WASI) sees only its working directory's tree, and the circuits include
    // circomlib as ../../node_modules/circomlib/. In a checkout both are below the package
    // root: compile there. Installed, circomlib is usually hoisted out of the package: compile
    // in the temporary folder, from copies of the sources the circuit includes laid out as in
    // a checkout.
    let cwd = PROJECT_ROOT;
    let main = src;
    if (!CIRCOMLIB_IN_PACKAGE) {
      cwd = tmp;
      for (const [name, file] of circuitSources(src)) {
        await mkdir(dirname(join(tmp, name)), { recursive: true });
        await copyFile(file, join(tmp, name));
      }
      main = join(tmp, relative(PROJECT_ROOT, src));
    }
    const out = await runCircom(
      [relative(cwd, main), '--r1cs', '--wasm', '--sym', '--O2', '-o', relative(cwd, tmp) || '.', ...(opts.flags ?? [])],
      cwd,
    );
    opts.onOutput?.(out);
    const dir = resolve(outDir);
    const files = { r1cs: `${name}.r1cs`, wasm: `${name}_js/${name}.wasm`, sym: `${name}.sym` };
    const target = { r1cs: join(dir, `${name}.r1cs`), wasm: join(dir, `${name}.wasm`), sym: join(dir, `${name}.sym`) };
    for (const k of ['r1cs', 'wasm', 'sym'] as const) await rename(join(tmp, files[k]), target[k]);
    return { name, dir, ...target };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
