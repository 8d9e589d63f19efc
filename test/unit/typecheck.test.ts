/**
 * The whole repository type-checks (`npm run typecheck`: sources, scripts and tests, strict),
 * and so does the package build's configuration. The tests themselves run through esbuild,
 * which strips types without checking them: this is the test that fails on a type error.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const check = (project: string) =>
  promisify(execFile)(process.execPath, [tsc, '--noEmit', '-p', join(ROOT, project)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 << 20 }).then(
    () => '',
    (e: { stdout: string }) => e.stdout,
  );

describe('types', () => {
  it('tsconfig.json: sources, scripts and tests', async () => {
    expect(await check('tsconfig.json')).toBe('');
  }, 180_000);

  it('tsconfig.build.json: the published package', async () => {
    expect(await check('tsconfig.build.json')).toBe('');
  }, 180_000);
});
