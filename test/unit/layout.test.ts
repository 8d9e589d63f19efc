/**
 * The house's import rules, checked on the sources: the product (src/) never imports the
 * project's scripts, and only the store module imports LevelDB.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SRC = join(ROOT, 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : /\.(ts|mjs)$/.test(e.name) ? [join(dir, e.name)] : []));
}

// Every module specifier of a file: static imports and re-exports, and dynamic import() of a literal.
const specifiers = (text: string) => [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]!);

describe('layout', () => {
  const files = sources(SRC);

  it('reads every source file of src/', () => {
    expect(files.length).toBeGreaterThan(80);
    expect(files.some((f) => f.endsWith(join('src', 'build', 'ensure-artifacts.ts')))).toBe(true);
  });

  it('src/ imports nothing from scripts/ or test/', () => {
    const bad = files.flatMap((f) =>
      specifiers(readFileSync(f, 'utf8'))
        .filter((s) => s.startsWith('.'))
        .map((s) => relative(ROOT, resolve(f, '..', s)))
        .filter((target) => target.startsWith('scripts') || target.startsWith('test'))
        .map((target) => `${relative(ROOT, f)} -> ${target}`),
    );
    expect(bad).toEqual([]);
  });

  it('only src/store/db.ts imports LevelDB', () => {
    const importers = files.filter((f) => specifiers(readFileSync(f, 'utf8')).some((s) => s === 'level' || s === 'classic-level'));
    expect(importers.map((f) => relative(ROOT, f))).toEqual([join('src', 'store', 'db.ts')]);
  });
});
