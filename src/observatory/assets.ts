/**
 * The observatory page's files, as the aggregator serves them at `/` (src/api/observatory.ts):
 * the HTML, the stylesheet, the icon, and one script bundling the page (page.ts) with the
 * verifier (src/verifier) for the browser.
 *
 * Two sources, one set of files:
 *   - a checkout (src/observatory/page.ts is there, and esbuild, a development dependency):
 *     the script is bundled in memory from the TypeScript source, once per process, so that
 *     `npm start` serves what is in src/ now, never a stale build;
 *   - the installed package (no src/, no esbuild): the files `npm run build` wrote into
 *     dist/observatory/ (scripts/build-observatory.mjs calls writeObservatory below).
 * Each file is kept with its gzip form and the ETags of both.
 * @module
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PACKAGE_ROOT } from '../package-root.ts';

/** The files of the page and their content types; observatory.js is built, the others copied. */
export const OBSERVATORY_FILES: Readonly<Record<string, string>> = Object.freeze({
  'index.html': 'text/html; charset=utf-8',
  'observatory.css': 'text/css; charset=utf-8',
  'observatory.js': 'text/javascript; charset=utf-8',
  'icon.svg': 'image/svg+xml',
});

/** Where the page's sources are in a checkout, and where `npm run build` puts the page. */
export const SOURCE_DIR = join(PACKAGE_ROOT, 'src', 'observatory');
export const PREBUILT_DIR = join(PACKAGE_ROOT, 'dist', 'observatory');

export interface Asset {
  type: string;
  body: Buffer;
  /** A strong ETag of `body`. */
  etag: string;
  gzip: Buffer;
  gzipEtag: string;
}

export interface ObservatoryAssets {
  /** By file name (the keys of OBSERVATORY_FILES). */
  files: ReadonlyMap<string, Asset>;
}

const etagOf = (b: Buffer, suffix = '') => `"${createHash('sha256').update(b).digest('base64url').slice(0, 27)}${suffix}"`;

function asset(name: string, body: Buffer): Asset {
  const gzip = gzipSync(body, { level: 9 });
  return { type: OBSERVATORY_FILES[name]!, body, etag: etagOf(body), gzip, gzipEtag: etagOf(body, '-gz') };
}

/**
 * Bundles the page from its TypeScript source with esbuild (a development dependency, imported
 * only here): the files by name.
 * @throws Error when esbuild is not installed or the source does not build.
 */
export async function buildObservatoryFiles(): Promise<Map<string, Buffer>> {
  const esbuild = await import('esbuild');
  const r = await esbuild.build({
    entryPoints: [join(SOURCE_DIR, 'page.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    // BigInt and WebAssembly: every browser of the last few years.
    target: ['es2022'],
    minify: true,
    legalComments: 'eof',
    write: false,
    logLevel: 'silent',
  });
  const files = new Map<string, Buffer>();
  for (const name of Object.keys(OBSERVATORY_FILES)) {
    files.set(name, name === 'observatory.js' ? Buffer.from(r.outputFiles[0]!.contents) : await readFile(join(SOURCE_DIR, name)));
  }
  return files;
}

/** The prebuilt files of dist/observatory/. @throws Error naming a missing file. */
async function readPrebuilt(): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const name of Object.keys(OBSERVATORY_FILES)) files.set(name, await readFile(join(PREBUILT_DIR, name)));
  return files;
}

/**
 * The page's files: bundled from the source in a checkout, else the prebuilt ones.
 * @throws Error when neither is there (an installed package whose build did not run).
 */
export async function loadObservatory(): Promise<ObservatoryAssets> {
  let files: Map<string, Buffer> | undefined;
  if (existsSync(join(SOURCE_DIR, 'page.ts'))) {
    try {
      files = await buildObservatoryFiles();
    } catch (e) {
      // A checkout without esbuild (npm install --omit=dev) may still have a build.
      if (!existsSync(PREBUILT_DIR)) throw e;
    }
  }
  if (!files) {
    try {
      files = await readPrebuilt();
    } catch (e) {
      throw new Error(`the observatory page is not built (npm run build writes ${PREBUILT_DIR}): ${(e as Error).message}`);
    }
  }
  return { files: new Map([...files].map(([name, body]) => [name, asset(name, body)])) };
}

let loaded: Promise<ObservatoryAssets> | undefined;

/** loadObservatory(), once per process (every service of the process shares the files). */
export function observatoryAssets(): Promise<ObservatoryAssets> {
  loaded ??= loadObservatory();
  return loaded;
}

/**
 * Writes the page, bundled from the source, into `dir` (default dist/observatory/), replacing
 * what was there only once every file is written.
 * @returns the files' names and sizes.
 */
export async function writeObservatory(dir = PREBUILT_DIR): Promise<Array<{ name: string; bytes: number }>> {
  const files = await buildObservatoryFiles();
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  for (const [name, body] of files) await writeFile(join(tmp, name), body);
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  return [...files].map(([name, body]) => ({ name, bytes: body.length }));
}
