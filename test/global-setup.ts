/**
 * Vitest global setup: builds the `test` circuit configuration (circuits and development
 * keys, under build/test/) when missing, and checks it against the committed
 * artifacts/manifest.json: a rebuild must reproduce the committed hashes exactly. Then makes
 * the shared local key set of the test configuration (test/helpers/keys.ts) and compiles the
 * ceremony-test circuits. Builds the package (dist/, npm run build: tsc, then the observatory
 * page) too, so that what imports 'zktrust/...' here (the README's examples) runs the current
 * source.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureArtifacts } from '../src/build/ensure-artifacts.ts';
import { ensureTestLocalKeySet } from './helpers/keys.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const t0 = performance.now();
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  // tsc emits despite type errors; test/unit/typecheck.test.ts is the test that fails on them.
  const building = promisify(execFile)(process.execPath, [tsc, '-p', join(import.meta.dirname, '..', 'tsconfig.build.json')])
    .catch((e: { code?: number; stdout?: string }) => {
      if (e.code !== 2) throw e;
      console.log(`npm run build: type errors (dist/ emitted all the same):\n${e.stdout}`);
    })
    // npm run build's second step: the observatory page into dist/observatory/.
    .then(() => promisify(execFile)(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'build-observatory.mjs')]));
  let announced = false;
  await ensureArtifacts('test', {
    update: false,
    onProgress: (m) => {
      if (!announced) console.log('building the test circuits and development keys (first run only)');
      announced = true;
      console.log(`  [${((performance.now() - t0) / 1000).toFixed(1)} s] ${m}`);
    },
  });
  // The CLI and README tests prove under local keys, as a user's service does.
  const t1 = performance.now();
  const local = await ensureTestLocalKeySet('test');
  if (performance.now() - t1 > 1000) console.log(`  [${((performance.now() - t0) / 1000).toFixed(1)} s] local test keys in ${local}`);
  // The ceremony test's small circuits (compiled only: its keys come from local generation and a ceremony).
  await ensureArtifacts('ceremony-test', { update: false, devKeys: false });
  await building;
  // snarkjs leaves ffjavascript's curve (and its worker threads) cached on globalThis: end
  // them so that the test runner can exit.
  const curve = (globalThis as { curve_bn128?: { terminate(): Promise<void> } }).curve_bn128;
  await curve?.terminate();
  return async () => {};
}
