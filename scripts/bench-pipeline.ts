/**
 * Pipelined proving (`npm run bench -- --only pipeline [--config production] [--records N]`):
 * the same signed submissions proven by a service with one batch prover (the baseline) and with
 * two, in one run. Reported: proven records per second from the first submission until every
 * record is in a signed checkpoint, batches, and the ratio. On a 2-core machine each proof
 * already spreads over both cores, so a second local prover can only fill the single-threaded
 * parts of the other's proof (witness computation, verification, signing); provers on other
 * machines (workers) would each add their own cores.
 *
 * Workers (`npm run bench -- --only workers`): the same against a real redis-server with 1 and
 * 2 `zktrust worker` processes, the embedded single prover being the baseline of the run; each
 * proof's time as the worker logged it shows what a worker with cores of its own would give.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSubmission } from '../src/client/submission.ts';
import { generateKeyPair } from '../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../src/crypto/identity.ts';
import { wrapProver, type ProverFactory } from '../src/prover/prover.ts';
import { localProvers } from '../src/prover/supervised-prover.ts';
import { loadConfig } from '../src/service/config.ts';
import { startService, type RunningService } from '../src/service/server.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { startWorkerProcess, type WorkerProcess } from '../test/helpers/worker-process.ts';

/** Signed submissions of `records` records: known agents mostly, each pair on consecutive days. */
function submissions(records: number) {
  const orgs = [generateKeyPair(), generateKeyPair()];
  const agents = [generateKeyPair(), generateKeyPair()];
  const pairs = agents.flatMap((a) => orgs.map((o) => ({ a, o })));
  // Signed afresh for each run (a submission's timestamp is valid for minutes).
  const bodies = () => Array.from({ length: records }, (_, k) => {
    const { a, o } = pairs[k % pairs.length]!;
    return JSON.stringify(buildSubmission(o.secretKey, [{ agent: didFromPublicKey(a.publicKey), epoch: 1 + Math.floor(k / pairs.length), kept: 3, broken: k % 2, violations: 0 }]));
  });
  return { orgs, bodies };
}

interface ProvingRun {
  env: Record<string, string>;
  provers?: ProverFactory;
  /** Started once the service listens (workers), stopped after the run. */
  around?: (svc: RunningService) => Promise<() => Promise<void>>;
}

/**
 * Starts a service, submits every record and waits until all are in signed checkpoints.
 * @returns proven records per second from the first submission, and the batches.
 */
async function provingRun(configName: string, records: number, run: ProvingRun): Promise<{ rate: number; seconds: number; batches: number }> {
  const { orgs, bodies } = submissions(records);
  const dir = await mkdtemp(join(tmpdir(), 'zktrust-bench-pipeline-'));
  const svc = await startService(
    { ...loadConfig({ ZKTRUST_CIRCUITS: configName, ZKTRUST_INSECURE_DEV_KEYS: '1', ZKTRUST_LOG_LEVEL: 'warn', ...run.env }), port: 0, dataDir: join(dir, 'data'), adminToken: 'b', batchMaxWaitMs: 200, receiptDeadlineMs: 3_600_000 },
    () => {},
    { provers: run.provers },
  );
  const stop = run.around ? await run.around(svc) : async () => {};
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
    const seconds = (performance.now() - t0) / 1000;
    return { rate: records / seconds, seconds, batches: svc.aggregator.latestCheckpoint()!.body.sequence };
  } finally {
    await stop();
    await svc.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;

/** Each batch proof's own time as a local prover saw it, from when it started it (not while it waited). */
function timedLocalProvers(proofMs: number[]): ProverFactory {
  return (spec) => {
    const inner = localProvers(spec);
    let busyUntil = 0;
    return wrapProver(inner, async (circuit, input, opts) => {
      const asked = performance.now();
      const r = await inner.prove(circuit, input, opts);
      const done = performance.now();
      // A prover serves one request at a time: this one started when the previous ended.
      if (circuit === 'batch-update') proofMs.push(done - Math.max(asked, busyUntil));
      busyUntil = done;
      return r;
    });
  };
}

export async function benchPipeline(configName: string, records: number, line: (s: string) => void): Promise<void> {
  line(`\n## Pipelined proving (${configName}): ${records} records, 1 batch prover (baseline) against 2`);
  line('batch provers | batches | seconds | proven records/s | one batch proof, median ms (witness and Groth16, as the prover saw it)');
  const rates: number[] = [];
  for (const provers of [1, 2]) {
    const proofMs: number[] = [];
    const r = await provingRun(configName, records, { env: { ZKTRUST_BATCH_PROVERS: String(provers) }, provers: timedLocalProvers(proofMs) });
    rates.push(r.rate);
    line(`${provers}${provers === 1 ? ' (baseline)' : ''} | ${r.batches} | ${r.seconds.toFixed(1)} | ${r.rate.toFixed(2)} | ${median(proofMs).toFixed(0)}`);
  }
  line(`2 provers / 1: ${(rates[1]! / rates[0]!).toFixed(2)} (scaling efficiency ${((100 * rates[1]!) / (2 * rates[0]!)).toFixed(0)}%). Two provers sharing these cores each take about twice as long per proof; with cores of their own (workers elsewhere) each would prove at the one-prover pace.`);
}

export async function benchWorkers(configName: string, records: number, line: (s: string) => void): Promise<void> {
  line(`\n## Workers on Redis (${configName}): ${records} records; the embedded single prover (baseline) against 1 and 2 \`zktrust worker\` processes on this machine`);
  line('provers | batches | seconds | proven records/s | ratio to baseline | one batch proof, median ms (as the prover saw it)');
  const proofMs: number[] = [];
  const base = await provingRun(configName, records, { env: {}, provers: timedLocalProvers(proofMs) });
  line(`embedded, 1 child process (baseline) | ${base.batches} | ${base.seconds.toFixed(1)} | ${base.rate.toFixed(2)} | 1.00 | ${median(proofMs).toFixed(0)}`);
  const redis = await startRedis();
  const perWorker: number[] = [];
  try {
    for (const n of [1, 2]) {
      const prefix = `bench${n}`;
      const dir = await mkdtemp(join(tmpdir(), 'zktrust-bench-workers-'));
      let workers: WorkerProcess[] = [];
      const r = await provingRun(configName, records, {
        env: { ZKTRUST_REDIS_URL: redis.url, ZKTRUST_REDIS_PREFIX: prefix },
        around: async (svc) => {
          workers = await Promise.all(Array.from({ length: n }, (_, k) => startWorkerProcess({ redisUrl: redis.url, aggregatorUrl: svc.url, prefix, config: configName, cacheDir: join(dir, `w${k}`) })));
          return async () => {
            await Promise.all(workers.map((w) => w.kill()));
            await rm(dir, { recursive: true, force: true });
          };
        },
      });
      const ms = workers.flatMap((w) => w.said('proved', 'batch-update').map((l) => Number(l.ms)));
      const shares = workers.map((w) => w.said('proved', 'batch-update').length).join(' + ');
      if (n === 1) perWorker.push(median(ms));
      line(`${n} worker${n > 1 ? 's' : ''} (batches ${shares}) | ${r.batches} | ${r.seconds.toFixed(1)} | ${r.rate.toFixed(2)} | ${(r.rate / base.rate).toFixed(2)} | ${median(ms).toFixed(0)}`);
    }
  } finally {
    await redis.stop();
  }
  line(`Two workers here share 2 cores, so each proof takes longer; a worker with cores of its own proves a batch in about ${perWorker[0]!.toFixed(0)} ms (the 1-worker median), so k such workers would prove about k times the 1-worker rate while the sequencer (witnesses, verification, signing) keeps up.`);
}
