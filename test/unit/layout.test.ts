/**
 * The house's rules, checked on the sources: the product (src/) never imports the project's
 * scripts, only the store module imports LevelDB, and the protocol's wire types are declared
 * in one module.
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

  it('the wire types are declared once, in src/protocol/wire.ts', () => {
    const WIRE = /^export (?:interface|type) (Signed|TreeHeadBody|ReceiptBody|Receipt|CheckpointBody|Checkpoint|Presentation|ProofResponse|KeyView|KeyDocumentBody)\b|^(?:export )?interface (Signed|Receipt|SignedCheckpoint|Presentation)\b/gm;
    const declared = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(WIRE)].map((m) => `${relative(ROOT, f)}: ${m[1] ?? m[2]}`));
    expect(declared.filter((d) => !d.startsWith(join('src', 'protocol', 'wire.ts')))).toEqual([]);
    expect(declared.length).toBe(10);
  });
});
