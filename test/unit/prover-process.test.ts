/**
 * The prover worker: proofs made off the main thread verify, failures come back as errors,
 * and the main thread keeps running while a proof is computed.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProverProcess } from '../../src/prover/prover-process.ts';
import { verifyGroth16 } from '../../src/verifier/groth16.ts';
import { stockKeys, type StockKeys } from '../helpers/stock-keys.ts';

const SOURCE = `pragma circom 2.1.6;
template Square() { signal input x; signal input y; signal input tag; signal output z; z <== x * x + y; signal t <== tag * tag; x != 0; }
component main {public [y, tag]} = Square();
`;

let keys: StockKeys;
let worker: ProverProcess;

beforeAll(async () => {
  keys = await stockKeys('worker-square', SOURCE.replace('x != 0;', ''));
  worker = await ProverProcess.start([{ circuit: 'square', wasmPath: keys.circuit.wasmPath, zkeyPath: keys.zkeyPath, publicNames: ['z', 'y', 'tag'] }]);
});
afterAll(async () => worker?.close());

describe('ProverProcess', () => {
  it('proves in a child process; the proofs verify and name their public signals', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const results = await Promise.all([3n, 4n, 5n].map((x) => worker.prove('square', { x, y: 1n, tag: 9n })));
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    for (const [i, r] of results.entries()) {
      const x = BigInt(i + 3);
      expect(r.named).toEqual({ z: x * x + 1n, y: 1n, tag: 9n });
      expect(await verifyGroth16(keys.vkey, r.publicSignals, r.proof)).toBe(true);
    }
  });

  it('reports an unsatisfiable input and an unknown circuit as errors, and keeps serving', async () => {
    await expect(worker.prove('square', { x: 1n, y: 2n })).rejects.toThrow(/tag|Not all inputs/i);
    await expect(worker.prove('cube', { x: 1n })).rejects.toThrow(/unknown circuit/);
    const ok = await worker.prove('square', { x: 2n, y: 0n, tag: 1n });
    expect(ok.named.z).toBe(4n);
  });

  // Linux's scheduling policy of a thread: field 41 of /proc/<pid>/task/<tid>/stat (5: SCHED_IDLE).
  const policyOf = (pid: number, tid: string) => Number(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[38]);
  // util-linux is essential on Debian: where chrt is missing the test fails rather than skips.
  it.runIf(process.platform === 'linux')('runs every thread of the prover under SCHED_IDLE, including the threads a proof starts', async () => {
    expect(['/usr/bin/chrt', '/bin/chrt'].some((p) => existsSync(p)), 'util-linux chrt').toBe(true);
    await worker.prove('square', { x: 6n, y: 1n, tag: 1n });
    const pid = worker.pid!;
    const tids = readdirSync(`/proc/${pid}/task`);
    expect(tids.length).toBeGreaterThan(4);
    expect(tids.map((t) => policyOf(pid, t))).toEqual(tids.map(() => 5));
    // And this process (the server's) keeps the normal policy.
    expect(policyOf(process.pid, String(process.pid))).toBe(0);
  });
});
