/**
 * `local` keys: a deployment's own Groth16 keys from OS randomness, made on its first start.
 *
 * For each circuit, fresh secrets tau, alpha, beta (phase 1) and delta (one phase-2
 * contribution) are drawn from node:crypto, the proving key is computed in the field
 * (zkey-writer.ts) and written once, already carrying its contribution record, so that no
 * key with delta = 1 is ever written. The secrets exist only in the memory of the process
 * that draws them (and of the fixed-base workers it hands the derived scalars to): never on
 * disk, never in a log. `makeLocalKeySet` runs the whole generation in a child process that
 * exits when it is done, so the secrets die with it rather than with a garbage collection of
 * the long-lived service.
 *
 * Whoever runs this process could keep the secrets and forge proofs: a `local` key set makes
 * a deployment's proofs unforgeable by everyone but its operator (docs/keys.md).
 * @module
 */
import { fork } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KeySetDescriptor } from '../crypto/key-set.ts';
import { vkeyHash } from '../crypto/key-set.ts';
import { writeKeySetFile, type KeySetFile } from './key-set-dir.ts';
import { randomScalar } from './phase2.ts';
import { writeZkey, type Progress } from './zkey-writer.ts';
import { verificationKeyOf } from './zkey-file.ts';
import { loaderArgsFor } from '../package-root.ts';

/** The name recorded for a local key's phase-2 contribution. */
export const LOCAL_CONTRIBUTION_NAME = 'zktrust local key (OS randomness)';

export interface LocalKeyRequest {
  config: string;
  policyHash: string;
  /** The compiled circuits: name, r1cs path and the r1cs sha256. */
  circuits: Array<{ name: string; r1csPath: string; r1cs: string }>;
  /** Where to write the key set (created; must not hold a key set yet). */
  dir: string;
}

/** The four secrets of one circuit's key, in the order they are drawn. */
export function drawLocalSecrets(random: (n: number) => Uint8Array = randomBytes): { tau: bigint; alpha: bigint; beta: bigint; delta: bigint } {
  return { tau: randomScalar(random), alpha: randomScalar(random), beta: randomScalar(random), delta: randomScalar(random) };
}

/**
 * Generates a local key set in this process. Prefer makeLocalKeySet, which runs it in a
 * child process; `random` is for tests that need to know the secrets to look for them.
 * @returns the key set file written to `req.dir`.
 */
export async function generateLocalKeySet(req: LocalKeyRequest, opts: { onProgress?: (circuit: string, phase: string, done: number, total: number) => void; random?: (n: number) => Uint8Array } = {}): Promise<KeySetFile> {
  const circuits: KeySetDescriptor['circuits'] = {};
  const verificationKeys: KeySetFile['verificationKeys'] = {};
  const zkeys: Record<string, string> = {};
  await mkdir(req.dir, { recursive: true });
  for (const c of req.circuits) {
    const zkeyPath = join(req.dir, `${c.name}.zkey`);
    const tmp = `${zkeyPath}.partial`;
    const progress: Progress = (phase, done, total) => opts.onProgress?.(c.name, phase, done, total);
    let secrets = drawLocalSecrets(opts.random);
    const { contributionHash } = await writeZkey(c.r1csPath, tmp, secrets, { phase2: { delta: secrets.delta, name: LOCAL_CONTRIBUTION_NAME, random: opts.random }, onProgress: progress });
    secrets = { tau: 0n, alpha: 0n, beta: 0n, delta: 0n };
    const bytes = new Uint8Array(await readFile(tmp));
    const vkey = await verificationKeyOf(bytes);
    zkeys[c.name] = createHash('sha256').update(bytes).digest('hex');
    await rename(tmp, zkeyPath);
    verificationKeys[c.name] = vkey;
    circuits[c.name] = { r1cs: c.r1cs, vkey: vkeyHash(vkey), contributions: [contributionHash!] };
  }
  const descriptor: KeySetDescriptor = { version: 1, config: req.config, mode: 'local', policyHash: req.policyHash, phase1: { kind: 'local' }, circuits };
  return writeKeySetFile(req.dir, { descriptor, verificationKeys, zkeys, createdAt: Date.now() });
}

const SELF = fileURLToPath(import.meta.url);

type ChildMessage = { progress: [string, string, number, number] } | { done: KeySetFile } | { error: string };

/**
 * Generates a local key set in a child process (see the module comment).
 * @throws Error if generation fails; nothing is left in `req.dir` but partial files, removed.
 */
export function makeLocalKeySet(req: LocalKeyRequest, onProgress?: (circuit: string, phase: string, done: number, total: number) => void): Promise<KeySetFile> {
  return new Promise((resolve, reject) => {
    const child = fork(SELF, [], {
      serialization: 'advanced',
      execArgv: loaderArgsFor(SELF),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let settled = false;
    child.on('message', (m: ChildMessage) => {
      if ('progress' in m) onProgress?.(...m.progress);
      else if ('done' in m) {
        settled = true;
        resolve(m.done);
      } else {
        settled = true;
        reject(new Error(m.error));
      }
    });
    child.on('error', (e) => {
      if (!settled) reject(e);
      settled = true;
    });
    child.on('exit', (code, signal) => {
      if (!settled) {
        settled = true;
        void Promise.all(req.circuits.map((c) => rm(join(req.dir, `${c.name}.zkey.partial`), { force: true }))).finally(() => reject(new Error(`local key generation exited (${signal ?? code})`)));
      }
    });
    child.send(req);
  });
}

// The child: generate, report, exit (taking the secrets with it).
if (process.argv[1] === SELF && process.send) {
  process.once('message', (req: LocalKeyRequest) => {
    generateLocalKeySet(req, { onProgress: (...p) => process.send!({ progress: p }) })
      .then((done) => process.send!({ done }, () => process.exit(0)))
      .catch((e: Error) => process.send!({ error: e.message }, () => process.exit(1)));
  });
}
