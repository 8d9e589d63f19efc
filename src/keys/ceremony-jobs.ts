/**
 * The heavy steps of a phase-2 ceremony, each run in a child process of its own so that a
 * service stays responsive (they take seconds to minutes and use every core) and a crash in
 * one cannot take the service down:
 *
 *   zkey-new     snarkjs `zkey new`: the initial key from the r1cs and a powers-of-tau file
 *   check        phase2.checkContribution: one uploaded contribution against the previous key
 *   beacon       snarkjs `zkey beacon`: the final, public contribution
 *   verify-init  snarkjs `zkey verify` from the initial key (the key follows from the r1cs and
 *                the ptau through the recorded contributions)
 *   verify-r1cs  snarkjs `zkey verify` from the r1cs (recomputes the initial key first)
 * @module
 */
import { fork } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ContributionCheck } from './phase2.ts';
import { loaderArgsFor } from '../package-root.ts';

export type CeremonyJob =
  | { kind: 'zkey-new'; r1cs: string; ptau: string; out: string }
  | { kind: 'check'; prev: string; next: string }
  | { kind: 'beacon'; prev: string; out: string; name: string; beacon: string; iterationsExp: number }
  | { kind: 'verify-init'; init: string; ptau: string; key: string }
  | { kind: 'verify-r1cs'; r1cs: string; ptau: string; key: string };

/** What each job resolves to. */
export interface CeremonyJobResult {
  'zkey-new': { csHash: string };
  check: ContributionCheck;
  beacon: { contributionHash: string };
  'verify-init': { ok: boolean };
  'verify-r1cs': { ok: boolean };
}

const SELF = fileURLToPath(import.meta.url);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function execute(job: CeremonyJob): Promise<unknown> {
  const snarkjs = await import('snarkjs');
  // snarkjs logs only through a logger; none is passed.
  switch (job.kind) {
    case 'zkey-new': {
      const csHash = await snarkjs.zKey.newZKey!(job.r1cs, job.ptau, job.out);
      if (!(csHash instanceof Uint8Array)) throw new Error('snarkjs zkey new failed (is the powers of tau large enough for the circuit?)');
      return { csHash: hex(csHash) };
    }
    case 'check': {
      const { checkContribution, closePhase2Curve } = await import('./phase2.ts');
      const r = await checkContribution(new Uint8Array(await readFile(job.prev)), new Uint8Array(await readFile(job.next)));
      await closePhase2Curve();
      return r;
    }
    case 'beacon': {
      const h = await snarkjs.zKey.beacon!(job.prev, job.out, job.name, job.beacon, job.iterationsExp);
      if (!(h instanceof Uint8Array)) throw new Error('snarkjs zkey beacon failed');
      return { contributionHash: hex(h) };
    }
    case 'verify-init':
      return { ok: (await snarkjs.zKey.verifyFromInit!(job.init, job.ptau, job.key)) === true };
    case 'verify-r1cs':
      return { ok: (await snarkjs.zKey.verifyFromR1cs!(job.r1cs, job.ptau, job.key)) === true };
  }
}

/**
 * Runs one job in a child process and resolves with its result.
 * @throws Error with the child's message if the job fails or the child dies.
 */
export function runCeremonyJob<K extends CeremonyJob['kind']>(job: Extract<CeremonyJob, { kind: K }>, opts: { signal?: AbortSignal } = {}): Promise<CeremonyJobResult[K]> {
  return new Promise((resolve, reject) => {
    // An aborted signal kills the child (the caller is shutting down).
    const child = fork(SELF, [], {
      signal: opts.signal,
      serialization: 'advanced',
      execArgv: loaderArgsFor(SELF),
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let settled = false;
    const settle = (f: () => void) => {
      if (!settled) f();
      settled = true;
    };
    child.on('message', (m: { ok: true; result: CeremonyJobResult[K] } | { ok: false; error: string }) => settle(() => (m.ok ? resolve(m.result) : reject(new Error(m.error)))));
    child.on('error', (e) => settle(() => reject(e)));
    child.on('exit', (code, signal) => settle(() => reject(new Error(`ceremony job ${job.kind} exited (${signal ?? code})`))));
    child.send(job);
  });
}

if (process.argv[1] === SELF && process.send) {
  // The parent is gone: nobody will read the result.
  process.on('disconnect', () => process.exit(1));
  process.once('message', (job: CeremonyJob) => {
    execute(job)
      .then((result) => process.send!({ ok: true, result }, () => process.exit(0)))
      .catch((e: Error) => process.send!({ ok: false, error: e.message }, () => process.exit(1)));
  });
}
