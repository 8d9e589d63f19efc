/**
 * Service benchmarks (`npm run bench -- --only service [--config production]`), each against a
 * baseline measured in the same run:
 *   - durable ingestion over HTTP in submissions of 100 and 1,000 records, against the same
 *     entries written straight to LevelDB with sync (the durability floor);
 *   - submission latency p50/p99 while a batch proof runs, against the same with the prover idle;
 *   - presentation latency p50/p95 (distinct contexts, no cache), against the cache-hit path.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPair } from '../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../src/crypto/identity.ts';
import { buildSubmission, buildThresholdRequest } from '../src/client/submission.ts';
import { loadConfig } from '../src/service/config.ts';
import { startService } from '../src/service/server.ts';
import { Store, numKey } from '../src/store/db.ts';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

export async function benchService(configName: string, line: (s: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'zktrust-bench-service-'));
  const svc = await startService({ ...loadConfig({ ZKTRUST_CIRCUITS: configName }), port: 0, dataDir: join(dir, 'data'), adminToken: 'bench', batchMaxWaitMs: 1000, ratePerSecond: 1e9, burst: 1e9, maxRecordsPerSubmission: 1000, receiptDeadlineMs: 1e10 }, () => {});
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const r = await fetch(svc.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const json = await r.json();
    if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  };
  try {
    const org = generateKeyPair();
    await post('/v1/admin/orgs', { name: 'bench', publicKey: Buffer.from(org.publicKey).toString('hex') }, { authorization: 'Bearer bench' });
    const agents = Array.from({ length: 40 }, () => generateKeyPair());
    const dids = agents.map((a) => didFromPublicKey(a.publicKey));
    const records = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ({ agent: dids[(seed + i) % dids.length]!, epoch: seed, kept: 3, broken: i % 2, violations: 0 }));

    line(`\n## Service (${configName})`);
    // Ingestion with the sequencer stopped: the path from HTTP to a synced LevelDB batch.
    await svc.aggregator.stop();
    line('durable ingestion over HTTP | records/s | store-only baseline records/s | ratio');
    for (const size of [100, 1000]) {
      const subs = Array.from({ length: size === 100 ? 20 : 4 }, (_, k) => buildSubmission(org.secretKey, records(size, k)));
      const t = performance.now();
      for (const s of subs) await post('/v1/records', s);
      const rate = (subs.length * size) / ((performance.now() - t) / 1000);
      // Baseline: the same entries and openings written to a fresh LevelDB, one synced batch per submission.
      const store = await Store.open(join(dir, `baseline-${size}`));
      const t2 = performance.now();
      let index = 0;
      for (const s of subs) {
        await store.write(s.records.flatMap((r) => [
          { type: 'put' as const, sub: 'entries' as const, key: numKey(index), value: { commitment: r.commitment, org: s.org } },
          { type: 'put' as const, sub: 'openings' as const, key: numKey(index++), value: r },
        ]));
      }
      const base = (subs.length * size) / ((performance.now() - t2) / 1000);
      await store.close();
      line(`submissions of ${size} | ${rate.toFixed(0)} | ${base.toFixed(0)} | ${(rate / base).toFixed(3)}`);
    }

    // Latency of small submissions with the prover idle, then while the backlog is proving.
    const lat = async (n: number) => {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        const body = buildSubmission(org.secretKey, records(10, 10_000 + i));
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
  } finally {
    await svc.close();
  }
  await benchPresentations(configName, dir, line);
  await rm(dir, { recursive: true, force: true });
}

async function benchPresentations(configName: string, dir: string, line: (s: string) => void): Promise<void> {
  const svc = await startService({ ...loadConfig({ ZKTRUST_CIRCUITS: configName }), port: 0, dataDir: join(dir, 'data-presentations'), adminToken: 'bench', batchMaxWaitMs: 200, ratePerSecond: 1e9, burst: 1e9 }, () => {});
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
    const ask = async (a: number, nonce: string) => {
      const ch = await post('/v1/agents/challenge', { agent: dids[a] });
      const body = buildThresholdRequest(agents[a]!.secretKey, ch.challenge, { minScore: 100, context: { nonce, audience: 'bench', expiry: Math.floor(Date.now() / 1000) + 600 } });
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
