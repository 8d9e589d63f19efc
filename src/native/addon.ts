/**
 * zktrust's Node-API addons (native/*.c): each is built once with the system C compiler
 * into build/native/, under a name that carries the source's hash (an edited source is
 * rebuilt), and loaded with require.
 *
 * An addon is an accelerator, never a dependency: `loadAddon` resolves to undefined where
 * no compiler or Node-API headers exist, or with ZKTRUST_NATIVE=0, and every caller has a
 * WebAssembly path that computes the same result.
 * @module
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { BUILD_DIR, PACKAGE_ROOT } from '../package-root.ts';

const ROOT = PACKAGE_ROOT;

/** The addons, by the name of their source in native/. */
export type AddonName = 'poseidon-bn254' | 'msm-bn254';

function sourceOf(name: AddonName): string {
  return join(ROOT, 'native', `${name}.c`);
}

function nodeIncludeDir(): string | undefined {
  const candidates = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    join(dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
  return candidates.find((d): d is string => !!d && existsSync(join(d, 'node_api.h')));
}

/** The path the addon of the current source (and native/'s shared .h and .inc files) is built to. */
export function addonPath(name: AddonName): string {
  const hash = createHash('sha256').update(readFileSync(sourceOf(name)));
  const dir = join(ROOT, 'native');
  for (const f of readdirSync(dir).filter((f) => /\.(h|inc)$/.test(f)).sort()) hash.update(f).update(readFileSync(join(dir, f)));
  return join(BUILD_DIR, 'native', `${name}-${hash.digest('hex').slice(0, 16)}.node`);
}

/**
 * Builds the addon if it is missing (atomically: compile to a temporary name, then rename).
 * @throws Error with the compiler's message when the build fails.
 */
export async function buildAddon(name: AddonName): Promise<string> {
  const target = addonPath(name);
  if (existsSync(target)) return target;
  const include = nodeIncludeDir();
  if (!include) throw new Error('Node-API headers (node_api.h) not found');
  await mkdir(dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  const cc = process.env.CC ?? 'cc';
  const source = sourceOf(name);
  try {
    await promisify(execFile)(cc, ['-O3', '-std=gnu11', '-shared', '-fPIC', '-fvisibility=hidden', `-I${include}`, '-o', tmp, source]);
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new Error(`could not compile ${source} with ${cc}: ${(e as { stderr?: string }).stderr || (e as Error).message}`);
  }
  return target;
}

const loaded = new Map<AddonName, Promise<unknown>>();

/**
 * The addon's exports, built on first use; undefined (with the reason given to
 * `onUnavailable`) where it cannot be built or loaded, or when ZKTRUST_NATIVE=0.
 */
export function loadAddon<T>(name: AddonName, onUnavailable?: (reason: string) => void): Promise<T | undefined> {
  let p = loaded.get(name) as Promise<T | undefined> | undefined;
  if (!p) {
    p = (async () => {
      if (process.env.ZKTRUST_NATIVE === '0') throw new Error('disabled by ZKTRUST_NATIVE=0');
      return createRequire(import.meta.url)(await buildAddon(name)) as T;
    })();
    loaded.set(name, p);
  }
  return p.catch((e: Error) => {
    onUnavailable?.(e.message);
    return undefined;
  });
}
