/**
 * Pipelined proving (`npm run bench -- --only pipeline [--config production] [--records N]`):
 * the same signed submissions proven by a service with one batch prover (the baseline) and with
 * two, in one run. Reported: proven records per second from the first submission until every
 * record is in a signed checkpoint, batches, and the ratio. On a 2-core machine each proof
 * already spreads over both cores, so a second local prover can only fill the single-threaded
 * parts of the other's proof (witness computation, verification, signing); provers on other
 * machines (workers) would each add their own cores.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSubmission } from '../src/client/submission.ts';
import { generateKeyPair } from '../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../src/crypto/identity.ts';
import { localProvers, wrapProver } from '../src/prover/prover.ts';
import { loadConfig } from '../src/service/config.ts';
import { startService } from '../src/service/server.ts';

export async function benchPipeline(configName: string, records: number, line: (s: string) => void): Promise<void> {
  const orgs = [generateKeyPair(), generateKeyPair()];
  const agents = [generateKeyPair(), generateKeyPair()];
  // Known agents mostly (updates), as in steady operation: each (agent, organisation) pair
  // reports on consecutive days.
  const pairs = agents.flatMap((a) => orgs.map((o) => ({ a, o })));
  // Signed afresh for each run (a submission's timestamp is valid for minutes).
  const bodies = () => Array.from({ length: records }, (_, k) => {
    const { a, o } = pairs[k % pairs.length]!;
    return JSON.stringify(buildSubmission(o.secretKey, [{ agent: didFromPublicKey(a.publicKey), epoch: 1 + Math.floor(k / pairs.length), kept: 3, broken: k % 2, violations: 0 }]));
  });
  line(`\n## Pipelined proving (${configName}): ${records} records, 1 batch prover (baseline) against 2`);
  line('batch provers | batches | seconds | proven records/s | one batch proof, median ms (witness and Groth16, as the prover saw it)');
  const rates: number[] = [];
  for (const provers of [1, 2]) {
    const dir = await mkdtemp(join(tmpdir(), 'zktrust-bench-pipeline-'));
    // Each batch proof's own time, from when its prover started it (not while it waited).
    const proofMs: number[] = [];
    const timed = (spec: Parameters<typeof localProvers>[0]) => {
      const inner = localProvers(spec);
      let busyUntil = 0;
      return wrapProver(inner, async (circuit, input) => {
        const asked = performance.now();
        const r = await inner.prove(circuit, input);
        const done = performance.now();
        // A prover serves one request at a time: this one started when the previous ended.
        if (circuit === 'batch-update') proofMs.push(done - Math.max(asked, busyUntil));
        busyUntil = done;
        return r;
      });
    };
    const svc = await startService(
      { ...loadConfig({ ZKTRUST_CIRCUITS: configName, ZKTRUST_INSECURE_DEV_KEYS: '1', ZKTRUST_BATCH_PROVERS: String(provers), ZKTRUST_LOG_LEVEL: 'warn' }), port: 0, dataDir: join(dir, 'data'), adminToken: 'b', batchMaxWaitMs: 200, receiptDeadlineMs: 3_600_000 },
      () => {},
      { provers: timed },
    );
    try {
      for (const [i, o] of orgs.entries()) {
        const r = await fetch(`${svc.url}/v1/admin/orgs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer b' }, body: JSON.stringify({ name: `bench ${i}`, publicKey: Buffer.from(o.publicKey).toString('hex') }) });
        if (r.status !== 201) throw new Error(`registering: ${r.status} ${await r.text()}`);
      }
      // Let the provers load their keys before the clock starts.
      await new Promise((r) => setTimeout(r, 2000));
      const signed = bodies();
      const t0 = performance.now();
      for (const body of signed) {
        const r = await fetch(`${svc.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        if (r.status !== 201) throw new Error(`submitting: ${r.status} ${await r.text()}`);
      }
      await svc.aggregator.drain(1_800_000);
      const s = (performance.now() - t0) / 1000;
      rates.push(records / s);
      const med = [...proofMs].sort((x, y) => x - y)[proofMs.length >> 1]!;
      line(`${provers}${provers === 1 ? ' (baseline)' : ''} | ${svc.aggregator.latestCheckpoint()!.body.sequence} | ${s.toFixed(1)} | ${(records / s).toFixed(2)} | ${med.toFixed(0)}`);
    } finally {
      await svc.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  line(`2 provers / 1: ${(rates[1]! / rates[0]!).toFixed(2)} (scaling efficiency ${((100 * rates[1]!) / (2 * rates[0]!)).toFixed(0)}%). Two provers sharing these cores each take about twice as long per proof; with cores of their own (workers elsewhere) each would prove at the one-prover pace.`);
}
