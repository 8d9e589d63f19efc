/**
 * `npm run setup -- --config test|production`: compiles a configuration's circuits from
 * circuits/circuits.json, generates their keys and updates artifacts/manifest.json and the
 * committed verification keys in artifacts/<config>/.
 *
 *   --config NAME     test (default) or production
 *   --mode dev        development keys from the public seed (default; INSECURE, fast)
 *   --mode ceremony   see docs/keys.md: --ptau FILE [--ptau-hash HEX] --contributions N --beacon HEX
 */
import { ensureArtifacts } from './lib/ensure-artifacts.ts';

const args = process.argv.slice(2);
const opt = (name: string, dflt?: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const config = opt('config', 'test')!;
const mode = opt('mode', 'dev');
const t0 = performance.now();
const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s]`;

try {
  if (mode === 'dev') {
    await ensureArtifacts(config, { update: true, onProgress: (m) => console.log(stamp(), m) });
  } else if (mode === 'ceremony') {
    const { runCeremony } = await import('./lib/ceremony.ts');
    await runCeremony(config, args, (m) => console.log(stamp(), m));
  } else {
    throw new Error(`unknown --mode ${mode} (dev or ceremony)`);
  }
  console.log(stamp(), `${config}: artifacts ready; artifacts/manifest.json updated`);
  process.exit(0);
} catch (e) {
  console.error(`setup failed: ${(e as Error).message}`);
  process.exit(1);
}
