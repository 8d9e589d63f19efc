/**
 * Proving on workers through Redis (BullMQ), for real: a redis-server, the aggregator with
 * ZKTRUST_REDIS_URL, and `zktrust worker` processes (the CLI as users run it) proving under
 * the aggregator's local keys, which each worker fetches and checks:
 *   - two workers share the batches and the presentations; every receipt is proven and the
 *     audit holds;
 *   - a worker killed with kill -9 in the middle of a job loses nothing: its job is taken by
 *     the other worker once its lock lapses, and proven once;
 *   - a job is one per statement and batch: asking twice gives the same proof (one job);
 *   - a worker offered keys that are not the key set's refuses to prove with them;
 *   - with Redis gone, submissions and presentations answer 503 (nothing stored), readiness
 *     says why, and the service stays up.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.ts';
import { AgentClient } from '../../src/client/agent-client.ts';
import { OrgClient, type Receipt } from '../../src/client/org-client.ts';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import { artifactPaths } from '../../src/prover/artifacts.ts';
import { QueueProverPool } from '../../src/prover/queue-provers.ts';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { buildThresholdInput, THRESHOLD_PUBLIC_SIGNALS } from '../../src/state/threshold-input.ts';
import { createVerifier } from '../../src/verifier/presentation.ts';
import { testLocalKeySetDir } from '../helpers/keys.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { registerOrgs } from '../helpers/service.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';

let dir: string;
let redis: TestRedis;
let svc: RunningService;
const workers: WorkerProcess[] = [];
const PREFIX = `zkt${process.pid}`;
const org = generateKeyPair();
/** An agent with proven records (first test). */
let provenAgent: ReturnType<typeof generateKeyPair> | undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function startWorker(name: string, opts: { url?: string } = {}): Promise<WorkerProcess> {
  return startWorkerProcess({ redisUrl: redis.url, aggregatorUrl: opts.url ?? svc.url, prefix: PREFIX, config: 'test', cacheDir: join(dir, name), lockMs: 3000 }).then((w) => {
    workers.push(w);
    return w;
  });
}

const said = (w: WorkerProcess, msg: string, circuit?: string) => w.said(msg, circuit);

async function until(what: string, cond: () => boolean, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-workers-'));
  redis = await startRedis();
  svc = await startService(
    {
      ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ZKTRUST_KEY_SET: testLocalKeySetDir(), ZKTRUST_REDIS_URL: redis.url, ZKTRUST_REDIS_PREFIX: PREFIX }),
      port: 0, dataDir: join(dir, 'data'), adminToken: 't', batchMaxWaitMs: 100, receiptDeadlineMs: 300_000,
    },
    () => {},
  );
  await registerOrgs(svc.url, 't', [org]);
  await Promise.all([startWorker('w1'), startWorker('w2')]);
}, 180_000);

afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await svc?.close();
  await redis?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('workers on Redis', () => {
  it('two workers prove every batch and a presentation; kill -9 of one mid-job loses nothing', async () => {
    const [w1, w2] = workers as [WorkerProcess, WorkerProcess];
    // Readiness counts the workers behind the queue.
    await until('two workers counted', () => svc.aggregator.proverStatus().every((p) => p.name.includes('2 workers') && p.state === 'ready'), 30_000);
    const client = new OrgClient(org.secretKey, svc.url, svc.aggregator.did);
    const agents = Array.from({ length: 8 }, () => generateKeyPair());
    const receipts: Receipt[] = [];
    // Two new agents a batch in the test configuration: at least four batches.
    for (const [i, a] of agents.entries()) receipts.push((await client.submit([{ agent: didFromPublicKey(a.publicKey), epoch: 1, kept: 20 + i, broken: 1, violations: 0 }])).receipt);
    // Kill the first worker seen starting a batch proof, while it proves.
    let victim: WorkerProcess | undefined;
    await until('a batch job in hand', () => (victim = [w1, w2].find((w) => said(w, 'proving', 'batch-update').length > said(w, 'proved', 'batch-update').length)) !== undefined);
    const job = said(victim!, 'proving', 'batch-update').at(-1)!.job as string;
    await sleep(100);
    await victim!.kill();
    const survivor = victim === w1 ? w2 : w1;
    await svc.aggregator.drain(180_000);
    // The killed job was proven by the survivor, once the lock lapsed.
    expect(said(survivor, 'proved').map((l) => l.job)).toContain(job);
    expect(said(victim!, 'proved').map((l) => l.job)).not.toContain(job);
    // Every receipt proven in time; the checkpoints are consecutive and the audit holds.
    const last = receipts.at(-1)!;
    const checkpoint = await client.waitUntilProven(last.body.firstIndex + last.body.count, { timeoutMs: 60_000 });
    for (const r of receipts) expect(checkpoint.body.time).toBeLessThanOrEqual(r.body.deadline);
    const report = await audit(svc.url, { aggregator: svc.aggregator.did });
    expect(report.failures).toEqual([]);
    expect(report).toMatchObject({ ok: true, provenEntries: agents.length });
    // Every batch job was proven exactly once across the workers (no batch proven twice).
    const batchJobs = [w1, w2].flatMap((w) => said(w, 'proved', 'batch-update').map((l) => l.job as string));
    expect(new Set(batchJobs).size).toBe(batchJobs.length);
    expect(batchJobs.length).toBe(report.batches);
    // A presentation through the same pool, verified as a verifier would.
    const agent = agents[7]!;
    provenAgent = agent;
    const nonce = 'workers-nonce';
    const ctx = { nonce, audience: 'https://verifier.example', expiry: Math.floor(Date.now() / 1000) + 600 };
    const presentation = await new AgentClient(agent.secretKey, svc.url).present({ minScore: 300, context: ctx });
    expect(said(survivor, 'proved', 'threshold').length).toBe(1);
    const verifier = createVerifier({ aggregatorKeys: [svc.aggregator.did] });
    expect(await verifier.verifyPresentation(presentation, { agent: didFromPublicKey(agent.publicKey), minScore: 300, context: { nonce, audience: ctx.audience }, maxAgeS: 600 })).toMatchObject({ ok: true, keyMode: 'local' });
  }, 300_000);

  it('one job per statement: asking twice at once gives the very same proof', async () => {
    const pool = new QueueProverPool(redis.url, { prefix: PREFIX });
    try {
      await pool.start();
      const keys = svc.aggregator.currentKeys();
      const prover = pool.factory({
        name: 'twice', keySetHash: keys.keySetHash, maxQueue: 4,
        circuits: [{ circuit: 'threshold', wasmPath: artifactPaths('test', 'threshold').wasm, zkeyPath: '', publicNames: THRESHOLD_PUBLIC_SIGNALS }],
      });
      const state = svc.aggregator.sequencer.committed;
      const agent = [...state.orgEpochs()][0]!.agent;
      const { input } = buildThresholdInput(state, { agent, minScore: 0n, minRecords: 0n, minOrgs: 0n, contextHash: 12345n }, BigInt(svc.aggregator.keyDocument().policyHash));
      const [a, b] = await Promise.all([prover.prove('threshold', input), prover.prove('threshold', input)]);
      // Groth16 proofs are randomised: two proofs of one statement differ; one job gives one.
      expect(a.proof).toEqual(b.proof);
      expect(a.publicSignals).toEqual(b.publicSignals);
      // And a third ask, after the fact, picks up the result: no worker starts the job again
      // (a worker logs 'proving' the moment it takes a job).
      const started = () => workers.reduce((n, w) => n + said(w, 'proving', 'threshold').length, 0);
      const before = started();
      expect((await prover.prove('threshold', input)).proof).toEqual(a.proof);
      await sleep(500);
      expect(started()).toBe(before);
    } finally {
      await pool.close();
    }
  }, 120_000);

  it('a worker refuses a proving key that is not the key set\'s', async () => {
    // An "aggregator" that serves the real key document but another proving key (the
    // development key of the same circuit).
    const real = svc.url;
    const fake: Server = createServer(async (req, res) => {
      if (req.url?.endsWith('/batch-update.zkey')) {
        res.end(await readFile(artifactPaths('test', 'batch-update').zkey));
        return;
      }
      const r = await fetch(`${real}${req.url}`);
      res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/octet-stream' });
      res.end(Buffer.from(await r.arrayBuffer()));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
    // Only the misled worker runs: stop the others.
    await Promise.all(workers.map((w) => w.kill()));
    const misled = await startWorker('misled', { url });
    try {
      await until('the misled worker counted', () => svc.aggregator.proverStatus().every((p) => p.name.includes('1 worker)') && p.state === 'ready'), 30_000);
      const client = new OrgClient(org.secretKey, svc.url, svc.aggregator.did);
      await client.submit([{ agent: didFromPublicKey(generateKeyPair().publicKey), epoch: 1, kept: 5, broken: 0, violations: 0 }]);
      await until('the job refused', () => said(misled, 'job failed').length > 0, 60_000);
      expect(String(said(misled, 'job failed')[0]!.error)).toMatch(/contribution|verification key|sha256/);
      expect(said(misled, 'proved')).toEqual([]);
      // An honest worker then proves it.
      await misled.kill();
      await startWorker('honest');
      await svc.aggregator.drain(120_000);
    } finally {
      fake.close();
    }
  }, 180_000);
});

describe('defaults', () => {
  it('an aggregator and a worker started without a prefix meet on the default one', async () => {
    // As a user runs them: ZKTRUST_REDIS_PREFIX set on neither side.
    const pool = new QueueProverPool(redis.url, { prefix: loadConfig({ ZKTRUST_REDIS_URL: redis.url }).redisPrefix, workerPollMs: 200 });
    const w = await startWorkerProcess({ redisUrl: redis.url, aggregatorUrl: svc.url, config: 'test', cacheDir: join(dir, 'default-prefix') });
    try {
      await pool.start();
      await until('the worker counted', () => pool.workerCount === 1, 30_000);
      expect(pool.queue.opts.prefix).toBe('zktrust');
    } finally {
      await w.kill();
      await pool.close();
    }
  }, 60_000);
});

describe('Redis unreachable', () => {
  it('submissions and presentations answer 503 at once, readiness says why, the service stays up', async () => {
    await redis.stop();
    await until('readiness to tell', () => svc.aggregator.proverStatus().some((p) => p.state === 'unavailable'), 30_000);
    const ready = await fetch(`${svc.url}/v1/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toMatch(/redis/);
    // No receipt is given that nothing could honour: 503, nothing stored.
    const client = new OrgClient(org.secretKey, svc.url, svc.aggregator.did);
    const size = svc.aggregator.treeHead().body.size;
    const refused = await client.submit([{ agent: didFromPublicKey(generateKeyPair().publicKey), epoch: 1, kept: 9, broken: 0, violations: 0 }]).catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 503, code: 'unavailable' });
    expect(svc.aggregator.treeHead().body.size).toBe(size);
    // An agent with a proven record asks for a presentation: refused at once, with Retry-After.
    const t0 = performance.now();
    const err = await new AgentClient(provenAgent!.secretKey, svc.url).present({ minScore: 300, context: { nonce: 'n-down', audience: 'https://v.example', expiry: Math.floor(Date.now() / 1000) + 600 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: 'unavailable' });
    expect((err as { retryAfterS?: number }).retryAfterS).toBeGreaterThan(0);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect((await fetch(`${svc.url}/v1/health`)).status).toBe(200);
  }, 120_000);
});
