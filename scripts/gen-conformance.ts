/**
 * Writes the conformance vectors of conformance/ (conformance/README.md says what each file
 * is), built by scripts/lib/conformance.ts with zktrust's own client, service and verifier
 * code. Deterministic: rerunning rewrites the same bytes (the presentation's Groth16 proof,
 * the one random value, is kept while it still proves the same statement). Rerun when the
 * protocol changes, and review the diff: `npx tsx scripts/gen-conformance.ts`.
 * test/unit/conformance.test.ts fails until the files match the code.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/prover/artifacts.ts';
import { buildConformance } from './lib/conformance.ts';

const dir = join(PROJECT_ROOT, 'conformance');
mkdirSync(dir, { recursive: true });
const previousPath = join(dir, 'presentation.json');
const previous = existsSync(previousPath) ? (JSON.parse(readFileSync(previousPath, 'utf8')) as { presentation?: { proof: unknown; publicSignals: string[] } }).presentation : undefined;
const docs = await buildConformance({ previous, prove: true });
for (const [name, doc] of Object.entries(docs)) {
  const path = join(dir, name);
  const text = JSON.stringify(doc, null, 2) + '\n';
  const same = existsSync(path) && readFileSync(path, 'utf8') === text;
  writeFileSync(path, text);
  console.log(`${same ? 'unchanged' : 'written  '} conformance/${name} (${text.length} bytes)`);
}
// snarkjs leaves ffjavascript's curve (and its worker threads) on globalThis: end them.
await (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128?.terminate();
