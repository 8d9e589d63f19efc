/**
 * Service benchmarks (`npm run bench -- --only service [--config production]`), each against a
 * baseline measured in the same run:
 *   - durable ingestion over HTTP in submissions of 100 and 1,000 records, from 1 and from 4
 *     concurrent clients in another process, against the same submissions written straight
 *     to LevelDB with sync (the durability floor);
 *   - submission latency p50/p99 while a batch proof runs, against the same with the prover idle;
 *   - presentation latency p50/p95 (distinct contexts, no cache), against the cache-hit path.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../src/crypto/identity.ts';
import { buildSubmission, buildThresholdRequest } from '../src/client/submission.ts';
import { loadConfig } from '../src/service/config.ts';
import { startService } from '../src/service/server.ts';
import { Store, numKey } from '../src/store/db.ts';
import { loadNativePoseidon } from '../src/engines/native-poseidon.ts';
import type { OutcomeRecord } from '../src/crypto/commitment.ts';

/** Runs the load generator in its own process; resolves with its report. */
async function runLoad(url: string, file: string, clients: number): Promise<{ ms: number; cpuMs: number; statuses: Record<number, number>; latencies: number[] }> {
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', 'scripts/lib/load-client.ts', url, file, String(clients)], { maxBuffer: 1 << 26 }, (e, out) => (e ? reject(e) : resolve(out))),
  );
  return JSON.parse(stdout);
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

export async function benchService(configName: string, line: (s: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'zktrust-bench-service-'));
  const svc = await startService({ ...loadConfig({ ZKTRUST_CIRCUITS: configName, ZKTRUST_INSECURE_DEV_KEYS: '1' }), port: 0, dataDir: join(dir, 'data'), adminToken: 'bench', batchMaxWaitMs: 1000, ratePerSecond: 1e9, burst: 1e9, addressRatePerSecond: 1e9, addressBurst: 1e9, maxRecordsPerSubmission: 1000, receiptDeadlineMs: 1e10 }, () => {});
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(svc.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const json = await r.json();
    if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  try {
    const org = generateKeyPair();
    await post('/v1/admin/orgs', { name: 'bench', publicKey: Buffer.from(org.publicKey).toString('hex') }, { authorization: 'Bearer bench' });
    // Policy v2: one record per (agent, organisation, epoch), epochs increasing in log order.
    // Concurrent submissions land in an unknown order, so within a trial every record is about
    // another agent; each trial (and each latency probe) takes the next epoch.
    const TOTAL = 20_000;
    const agentCapacity = 4 ** svc.aggregator.config.agentDepth - 1;
    const ingestion = agentCapacity >= TOTAL;
    const dids = Array.from({ length: ingestion ? TOTAL : 0 }, () => didFromPublicKey(generateKeyPair().publicKey));
    let day = 0;
    const records = (n: number, offset: number, epoch: number) => Array.from({ length: n }, (_, i) => ({ agent: dids[(offset + i) % dids.length]!, epoch, kept: 3, broken: i % 2, violations: 0 }));

    line(`\n## Service (${configName})`);
    // Ingestion with the sequencer stopped: the path from HTTP to a synced LevelDB batch. The
    // client is another process (scripts/lib/load-client.ts) posting pre-built bodies.
    await svc.aggregator.stop();
    line(`commitment checks: Poseidon, ${svc.aggregator.commitmentEngine}`);
    if (!ingestion) {
      line(`(ingestion and submission latency need ${TOTAL.toLocaleString('en')} agents: the ${configName} agent tree holds ${agentCapacity}; use --config production)`);
    } else {
      const native = await loadNativePoseidon();
      const fast = native && ((rs: readonly OutcomeRecord[]) => native.recordCommitments(rs));
      const load = async (size: number, total: number, clients: number, name: string) => {
        // The fixtures' commitments come from the native Poseidon when it builds (the same hash
        // as src/crypto's, which would take most of the benchmark's time).
        const epoch = ++day;
        const bodies = Array.from({ length: total / size }, (_, k) => JSON.stringify(buildSubmission(org.secretKey, records(size, k * size, epoch), { commitments: fast })));
        const file = join(dir, `bodies-${name}.json`);
        await writeFile(file, JSON.stringify(bodies));
        const out = await runLoad(`${svc.url}/v1/records`, file, clients);
        if (out.statuses[201] !== bodies.length) throw new Error(`ingestion: ${JSON.stringify(out.statuses)}`);
        return { bodies, out };
      };
      // Warm-up (not reported): the server's code is compiled and its caches filled, as in a
      // service that has been running.
      const WARM_UP = 3_000;
      await load(100, WARM_UP, 4, 'warm-up');
      const TRIALS = 3;
      line(`durable ingestion over HTTP: ${TOTAL.toLocaleString('en')} records per trial, ${TRIALS} trials per case (median, and the range), after a warm-up of ${WARM_UP.toLocaleString('en')}; the load generator shares the cores (its CPU time is shown)`);
      line('submissions of | clients | records/s | load generator CPU ms | store-only baseline records/s | ratio');
      for (const size of [100, 1000]) {
        for (const clients of [1, 4]) {
          const rates: number[] = [];
          const cpu: number[] = [];
          const bases: number[] = [];
          for (let trial = 0; trial < TRIALS; trial++) {
            const name = `${size}-${clients}-${trial}`;
            const { bodies, out } = await load(size, TOTAL, clients, name);
            rates.push(TOTAL / (out.ms / 1000));
            cpu.push(out.cpuMs);
            // Baseline: the same submissions written to a fresh LevelDB as the log writes them
            // (public submission, openings), one synced batch per submission, in this process.
            const store = await Store.open(join(dir, `baseline-${name}`));
            const t2 = performance.now();
            let index = 0;
            for (const b of bodies) {
              const s = JSON.parse(b) as ReturnType<typeof buildSubmission>;
              const key = numKey(index);
              index += s.records.length;
              await store.write([
                { type: 'put', sub: 'submissions', key, value: { org: s.org, nonce: s.nonce, timestamp: s.timestamp, commitments: s.records.map((r) => r.commitment), signature: s.signature } },
                { type: 'put', sub: 'openings', key, value: s.records.map(({ commitment: _c, ...o }) => o) },
              ]);
            }
            bases.push(TOTAL / ((performance.now() - t2) / 1000));
            await store.close();
          }
          const rate = pct(rates, 50);
          const base = pct(bases, 50);
          line(`${size} | ${clients} | ${rate.toFixed(0)} (${Math.min(...rates).toFixed(0)}-${Math.max(...rates).toFixed(0)}) | ${pct(cpu, 50).toFixed(0)} | ${base.toFixed(0)} | ${(rate / base).toFixed(3)}`);
        }
      }

      // Latency of small submissions with the prover idle, then while the backlog is proving.
      const lat = async (n: number) => {
        const xs: number[] = [];
        for (let i = 0; i < n; i++) {
          const body = buildSubmission(org.secretKey, records(10, 10 * i, ++day));
          const t = performance.now();
          await post('/v1/records', body);
          xs.push(performance.now() - t);
        }
        return xs;
      };
      const idle = await lat(50);
      svc.aggregator.start();
      await new Promise((r) => setTimeout(r, 300));
      const busy = await lat(50);
      line('submission of 10 records | p50 ms | p99 ms');
      line(`prover idle (baseline) | ${pct(idle, 50).toFixed(1)} | ${pct(idle, 99).toFixed(1)}`);
      line(`while a batch proves | ${pct(busy, 50).toFixed(1)} | ${pct(busy, 99).toFixed(1)}`);
    }
  } finally {
    await svc.close();
  }
  await benchPresentations(configName, dir, line);
  await rm(dir, { recursive: true, force: true });
}

async function benchPresentations(configName: string, dir: string, line: (s: string) => void): Promise<void> {
  const svc = await startService({ ...loadConfig({ ZKTRUST_CIRCUITS: configName, ZKTRUST_INSECURE_DEV_KEYS: '1' }), port: 0, dataDir: join(dir, 'data-presentations'), adminToken: 'bench', batchMaxWaitMs: 200, ratePerSecond: 1e9, burst: 1e9, addressRatePerSecond: 1e9, addressBurst: 1e9 }, () => {});
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(svc.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const json = await r.json();
    if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  try {
    const org = generateKeyPair();
    await post('/v1/admin/orgs', { name: 'bench', publicKey: Buffer.from(org.publicKey).toString('hex') }, { authorization: 'Bearer bench' });
    const agents = Array.from({ length: 6 }, () => generateKeyPair());
    const dids = agents.map((a) => didFromPublicKey(a.publicKey));
    await post('/v1/records', buildSubmission(org.secretKey, dids.map((agent) => ({ agent, epoch: 1, kept: 40, broken: 1, violations: 0 }))));
    await svc.aggregator.drain(600_000);
    // Presentations: distinct contexts (each one proven), then one context repeated (cache).
    // One expiry for every request, so that repeating a request repeats its context exactly.
    const expiry = Math.floor(Date.now() / 1000) + 3600;
    const ask = async (a: number, nonce: string) => {
      const ch = await post('/v1/agents/challenge', { agent: dids[a] });
      const body = buildThresholdRequest(agents[a]!.secretKey, ch.challenge, { minScore: 100, context: { nonce, audience: 'bench', expiry } });
      const t = performance.now();
      await post('/v1/proofs/threshold', body);
      return performance.now() - t;
    };
    const fresh: number[] = [];
    for (let i = 0; i < 20; i++) fresh.push(await ask(i % dids.length, `fresh-${i}`));
    const cached: number[] = [];
    for (let i = 0; i < 20; i++) cached.push(await ask(0, 'fresh-0'));
    line('presentation | p50 ms | p95 ms');
    line(`proven (distinct contexts) | ${pct(fresh, 50).toFixed(0)} | ${pct(fresh, 95).toFixed(0)}`);
    line(`cached (same request, baseline) | ${pct(cached, 50).toFixed(1)} | ${pct(cached, 95).toFixed(1)}`);
  } finally {
    await svc.close();
  }
}
