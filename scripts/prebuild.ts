/**
 * `tsx scripts/prebuild.ts [--config production]`: what the service's first start builds
 * before it makes its keys, done ahead of time (the container image's build stage, Dockerfile):
 *
 * - compiles the configuration's circuits into build/<config>/ and checks them against
 *   artifacts/manifest.json, as `serve` and `worker` do (no development keys, the manifest is
 *   never changed: a build that is not reproducible fails);
 * - builds the native addons of native/ into build/native/ (src/native/addon.ts). Unlike at
 *   run time, a missing compiler or Node-API headers is an error here, unless ZKTRUST_NATIVE=0.
 *
 * The service's own keys are not made here: they come from OS randomness on the deployment's
 * first start, into its data directory (docs/keys.md).
 */
import { ensureArtifacts } from '../src/build/ensure-artifacts.ts';
import { buildAddon, type AddonName } from '../src/native/addon.ts';

const args = process.argv.slice(2);
const i = args.indexOf('--config');
const config = i >= 0 ? args[i + 1] : 'production';
const t0 = performance.now();
const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s]`;

try {
  if (!config) throw new Error('--config needs a configuration name');
  await ensureArtifacts(config, { update: false, devKeys: false, onProgress: (m) => console.log(stamp(), m) });
  console.log(stamp(), `${config}: circuits match artifacts/manifest.json`);
  if (process.env.ZKTRUST_NATIVE === '0') console.log(stamp(), 'native addons skipped (ZKTRUST_NATIVE=0)');
  else for (const name of ['poseidon-bn254', 'msm-bn254'] as AddonName[]) console.log(stamp(), `${name}: ${await buildAddon(name)}`);
  process.exit(0);
} catch (e) {
  console.error(`prebuild failed: ${(e as Error).message}`);
  process.exit(1);
}
