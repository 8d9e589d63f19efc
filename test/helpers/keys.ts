/**
 * Key sets for the tests. A `local` key set of the test configuration, made once (by the
 * global setup) with the same code a service runs on its first start, so that the tests of
 * what users see (the README, the CLI) prove under keys a default verifier accepts, without
 * each paying for key generation: services import it with ZKTRUST_KEY_SET.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CIRCUIT_POLICY, policyHash } from '../../src/crypto/score-policy.ts';
import { KEY_SET_FILE } from '../../src/keys/key-set-dir.ts';
import { makeLocalKeySet } from '../../src/keys/local-keys.ts';
import { PROJECT_ROOT, compiledCircuits } from '../../src/prover/artifacts.ts';

/** Where the test configuration's shared local key set lives (by the compiled circuits' hashes). */
export function testLocalKeySetDir(config = 'test'): string {
  const circuits = compiledCircuits(config);
  const id = createHash('sha256').update(JSON.stringify(Object.entries(circuits).map(([n, c]) => [n, c.r1cs]))).digest('hex').slice(0, 16);
  return join(PROJECT_ROOT, 'build', 'test-keys', `${config}-local-${id}`);
}

/** Makes the shared local key set if it is missing (atomically); returns its directory. */
export async function ensureTestLocalKeySet(config = 'test'): Promise<string> {
  const dir = testLocalKeySetDir(config);
  if (existsSync(join(dir, KEY_SET_FILE))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const circuits = compiledCircuits(config);
  await makeLocalKeySet({ config, policyHash: policyHash(CIRCUIT_POLICY).toString(), circuits: Object.entries(circuits).map(([name, c]) => ({ name, r1csPath: c.r1csPath, r1cs: c.r1cs })), dir: tmp });
  await rename(tmp, dir);
  return dir;
}

/** Environment for a test service that proves with the public-seed development keys. */
export const DEV_KEYS = { ZKTRUST_INSECURE_DEV_KEYS: '1' } as const;
