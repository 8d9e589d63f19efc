/**
 * `npm run setup -- --config test|production`: compiles a configuration's circuits from
 * circuits/circuits.json, generates their keys and updates artifacts/manifest.json and the
 * committed verification keys in artifacts/<config>/.
 *
 *   --config NAME     test (default), production or ceremony-test
 *
 * The keys built here are development keys from a public seed (INSECURE, fast, reproducible):
 * for tests and demos only. A service makes its own keys (local) on first start, or runs a
 * ceremony with its organisations (zktrust ceremony, docs/keys.md).
 */
import { ensureArtifacts } from '../src/build/ensure-artifacts.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt?: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const config = opt('config', 'test')!;
const t0 = performance.now();
const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s]`;

try {
  if (args.includes('--mode')) throw new Error('--mode is gone: this builds development keys; a service makes its own keys or runs a ceremony (docs/keys.md)');
  await ensureArtifacts(config, { update: true, onProgress: (m) => console.log(stamp(), m) });
  console.log(stamp(), `${config}: artifacts ready; artifacts/manifest.json updated`);
  process.exit(0);
} catch (e) {
  console.error(`setup failed: ${(e as Error).message}`);
  process.exit(1);
}
