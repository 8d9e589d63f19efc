/**
 * Where this package's own files are: the circuits, the committed artifacts, the native
 * sources, and the build/ folder that compiled circuits and addons go to. That is the folder of
 * zktrust's package.json: the repository in a checkout, node_modules/zktrust when installed.
 * It is found by walking up from this module, so that src/ (run through tsx) and dist/src/
 * (the built package) agree.
 *
 * circomlib, which the circuits include as "../../node_modules/circomlib/...", is wherever
 * Node resolves it from here: inside the package in a checkout, usually hoisted beside it when
 * installed. `packageFile` maps the circuits' include paths to it.
 * @module
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The nearest folder above `from` whose package.json is zktrust's, and that package.json. */
function findPackage(from: string): { root: string; version: string } {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
      if (json.name === 'zktrust') return { root: dir, version: json.version };
    }
    if (dirname(dir) === dir) throw new Error(`zktrust: no package.json of zktrust above ${from}`);
  }
}

const found = findPackage(dirname(fileURLToPath(import.meta.url)));
/** The folder of zktrust's package.json. */
export const PACKAGE_ROOT = found.root;
/** The package's version (package.json). */
export const PACKAGE_VERSION = found.version;

/**
 * Where the compiled circuits (build/<config>/) and native addons (build/native/) go, and are
 * looked for:
 *
 * - ZKTRUST_BUILD_DIR when set;
 * - else the package's build/ when it exists (a checkout, a container image's prebuilt one) or
 *   the package folder is writable (a checkout, a project's node_modules);
 * - else a per-user cache, `$XDG_CACHE_HOME` or `~/.cache`, then zktrust/<version>/build: a
 *   global install in a folder its user cannot write.
 */
export function chooseBuildDir(env: { ZKTRUST_BUILD_DIR?: string; XDG_CACHE_HOME?: string }, packageRoot: string, version: string, fs: { exists(p: string): boolean; writable(p: string): boolean }, home: string): string {
  if (env.ZKTRUST_BUILD_DIR) return resolve(env.ZKTRUST_BUILD_DIR);
  const own = join(packageRoot, 'build');
  if (fs.exists(own) || fs.writable(packageRoot)) return own;
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'zktrust', version, 'build');
}

const writable = (p: string) => {
  try {
    accessSync(p, constants.W_OK);
    return true;
  } catch {
    return false;
  }
};

/** This process's build folder (chooseBuildDir). */
export const BUILD_DIR = chooseBuildDir(process.env, PACKAGE_ROOT, PACKAGE_VERSION, { exists: existsSync, writable }, homedir());

/** The folder of the circomlib package this package resolves. */
export const CIRCOMLIB_DIR = dirname(createRequire(import.meta.url).resolve('circomlib/package.json'));

/** How the circuits name circomlib's files: relative to the package root, as in a checkout. */
const CIRCOMLIB_PREFIX = join('node_modules', 'circomlib') + sep;

/**
 * The absolute path of a file named relative to the package root, as the manifest names
 * circuit sources; `node_modules/circomlib/...` is the circomlib resolved (CIRCOMLIB_DIR).
 */
export function packageFile(relativePath: string): string {
  const p = join(relativePath);
  return p.startsWith(CIRCOMLIB_PREFIX) ? join(CIRCOMLIB_DIR, p.slice(CIRCOMLIB_PREFIX.length)) : join(PACKAGE_ROOT, p);
}

/** Whether circomlib sits inside the package (a checkout), where the circuits' includes find it. */
export const CIRCOMLIB_IN_PACKAGE = CIRCOMLIB_DIR === join(PACKAGE_ROOT, 'node_modules', 'circomlib');

/**
 * The Node options a child process needs to run the module at `file`: none for the built
 * package's JavaScript; tsx's loader for a TypeScript source (a checkout), resolved from this
 * package rather than the working directory, so that the service runs wherever it is started.
 */
export function loaderArgsFor(file: string): string[] {
  if (!file.endsWith('.ts')) return [];
  return ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];
}
