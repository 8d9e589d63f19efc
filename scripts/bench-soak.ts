/**
 * Soak (`npm run bench -- --only soak [--config production] [--seconds 60]`): a service with
 * its default limits, trusting the loopback proxy, under 100 connections from 100 addresses
 * (scripts/lib/soak-client.ts, another process) for a minute: 90 submit small signed
 * submissions from 10 organisations, 10 ask threshold presentations, while batches prove.
 * Reported: every answer by route and status (only 2xx and the documented 429 and 503 are
 * expected; anything else is listed as unexpected), latency p50/p99 by route and status, the
 * health probe's latency during the soak, and the baseline of the same run: one connection
 * submitting alone for 10 s (p99 ratio soak / baseline).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import type { OutcomeRecord } from '../src/crypto/commitment.ts';
import { buildSubmission } from '../src/client/submission.ts';
import { generateKeyPair } from '../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../src/crypto/identity.ts';
import { loadConfig } from '../src/service/config.ts';
import { loadNativePoseidon } from '../src/engines/native-poseidon.ts';
import { startService } from '../src/service/server.ts';
import type { SoakPlan, SoakReport } from './lib/soak-client.ts';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

function runSoak(file: string): Promise<SoakReport> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['--import', 'tsx', 'scripts/lib/soak-client.ts', file], { maxBuffer: 1 << 28 }, (e, out, err) => (e ? reject(new Error(`${e.message}\n${err}`)) : resolve(JSON.parse(out) as SoakReport))),
  );
}

/** What each route may answer under load: success, or a documented refusal to come back later. */
const EXPECTED: Record<string, string[]> = {
  '/v1/records': ['201', '429 rate_limited', '503 unavailable'],
  '/v1/agents/challenge': ['201', '429 rate_limited'],
  '/v1/proofs/threshold': ['200', '429 rate_limited', '503 unavailable'],
};

export async function benchSoak(configName: string, seconds: number, line: (s: string) => void): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'zktrust-bench-soak-'));
  // The defaults a deployment runs with (limits included), behind a proxy on the loopback.
  const config = loadConfig({ ZKTRUST_CIRCUITS: configName, ZKTRUST_INSECURE_DEV_KEYS: '1', ZKTRUST_TRUST_PROXY: 'loopback', ZKTRUST_LOG_LEVEL: 'info', ZKTRUST_BATCH_MAX_WAIT_MS: '1000' });
  // The log: errors and warnings counted by message, connections the HTTP parser refused by code.
  const logged = new Map<string, number>();
  const svc = await startService({ ...config, port: 0, dataDir: join(dir, 'data'), adminToken: 'soak' }, (e) => {
    const key = e.msg === 'client error' ? `client error ${String(e.code)}` : e.level === 'error' || e.level === 'fatal' || e.level === 'warn' ? `${String(e.level)}: ${String(e.msg)}` : undefined;
    if (key) logged.set(key, (logged.get(key) ?? 0) + 1);
  });
  try {
    const ORGS = 10;
    const SUBMITTERS = 90;
    const PRESENTERS = 10;
    const orgs = Array.from({ length: ORGS }, () => generateKeyPair());
    for (const [i, o] of orgs.entries()) {
      const r = await fetch(`${svc.url}/v1/admin/orgs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer soak', 'x-forwarded-for': '192.0.2.1' }, body: JSON.stringify({ name: `soak ${i}`, publicKey: Buffer.from(o.publicKey).toString('hex') }) });
      if (r.status !== 201) throw new Error(`registering: ${r.status} ${await r.text()}`);
    }
    // Agents: as many as the agent tree holds (at most 60); the presenters' agents are proven first.
    const AGENTS = Math.min(60, 4 ** config.agentDepth - 1);
    const agents = Array.from({ length: AGENTS }, () => generateKeyPair());
    const dids = agents.map((a) => didFromPublicKey(a.publicKey));
    for (let i = 0; i < PRESENTERS; i++) {
      const r = await fetch(`${svc.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': '192.0.2.1' }, body: JSON.stringify(buildSubmission(orgs[0]!.secretKey, [{ agent: dids[i]!, epoch: 1, kept: 30, broken: 1, violations: 0 }])) });
      if (r.status !== 201) throw new Error(`seeding: ${r.status} ${await r.text()}`);
    }
    await svc.aggregator.drain(600_000);

    // Submissions: (agent, organisation) pairs dealt to the submitters, plus one more for the
    // baseline; each submission is one record on the pair's next day.
    const native = await loadNativePoseidon();
    const fast = native && ((rs: readonly OutcomeRecord[]) => native.recordCommitments(rs));
    // Enough for 8 submissions a second per submitter (the baseline's single connection makes
    // about 90 alone); each takes 1.6 ms to build, and all must be sent within the 5 minutes
    // a timestamp stays valid.
    const perSubmitter = Math.ceil(seconds * 8);
    const nextEpoch = new Map<string, number>();
    const bodiesFor = (owner: number, owners: number, n: number) => {
      const pairs: Array<[number, number]> = [];
      for (let p = owner; p < AGENTS * ORGS; p += owners) pairs.push([p % AGENTS, Math.floor(p / AGENTS)]);
      return Array.from({ length: n }, (_, k) => {
        const [a, o] = pairs[k % pairs.length]!;
        const key = `${a}/${o}`;
        const epoch = (nextEpoch.get(key) ?? 2) + 1;
        nextEpoch.set(key, epoch);
        return JSON.stringify(buildSubmission(orgs[o]!.secretKey, [{ agent: dids[a]!, epoch, kept: 2, broken: k % 3 === 0 ? 1 : 0, violations: 0 }], { commitments: fast }));
      });
    };
    const presenters = Array.from({ length: PRESENTERS }, (_, i) => ({ address: `198.18.1.${i + 1}`, secretKeyHex: Buffer.from(agents[i]!.secretKey).toString('hex'), did: dids[i]! }));
    const baselinePlan: SoakPlan = { url: svc.url, seconds: 10, submitters: [{ address: '198.18.2.1', bodies: bodiesFor(SUBMITTERS, SUBMITTERS + 1, 4000) }], presenters: [] };

    line(`\n## Soak (${configName}): ${SUBMITTERS} submitters and ${PRESENTERS} presenters, ${seconds} s, default limits`);
    // Baseline: one connection submitting alone (the sequencer running, a batch at a time).
    const baseFile = join(dir, 'baseline.json');
    await writeFile(baseFile, JSON.stringify(baselinePlan));
    const baseline = await runSoak(baseFile);
    // Built a submitter at a time, letting the event loop turn in between: a minute of
    // blocking would let keep-alive timers on both sides expire together.
    const submitters: SoakPlan['submitters'] = [];
    for (let j = 0; j < SUBMITTERS; j++) {
      submitters.push({ address: `198.18.0.${j + 1}`, bodies: bodiesFor(j, SUBMITTERS + 1, perSubmitter) });
      await new Promise((r) => setImmediate(r));
    }
    const before = { batches: svc.aggregator.latestCheckpoint()?.body.sequence ?? 0, size: (await (await fetch(`${svc.url}/v1/log/head`)).json() as { body: { size: number } }).body.size };
    const plan: SoakPlan = { url: svc.url, seconds, submitters, presenters };
    const file = join(dir, 'soak.json');
    await writeFile(file, JSON.stringify(plan));
    // /v1/health, probed from this process every 100 ms throughout.
    const health: number[] = [];
    let probing = true;
    const prober = (async () => {
      while (probing) {
        const t = performance.now();
        await (await fetch(`${svc.url}/v1/health`)).text();
        health.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const metrics0 = await (await fetch(`${svc.url}/metrics`)).text();
    const rss0 = process.memoryUsage().rss;
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const report = await runSoak(file);
    loop.disable();
    probing = false;
    await prober;
    const metrics1 = await (await fetch(`${svc.url}/metrics`)).text();
    const after = { batches: svc.aggregator.latestCheckpoint()?.body.sequence ?? 0, size: (await (await fetch(`${svc.url}/v1/log/head`)).json() as { body: { size: number } }).body.size };

    line('route | status | answers | p50 ms | p99 ms');
    const unexpected: string[] = [];
    for (const [route, r] of Object.entries(report.byRoute)) {
      for (const [status, xs] of Object.entries(r.statuses)) {
        const n = xs.length;
        line(`${route} | ${status} | ${n} | ${pct(xs, 50).toFixed(1)} | ${pct(xs, 99).toFixed(1)}`);
        if (!EXPECTED[route]?.includes(status)) unexpected.push(`${route} ${status} x${n}`);
      }
      line(`${route} | all | ${r.latencies.length} | ${pct(r.latencies, 50).toFixed(1)} | ${pct(r.latencies, 99).toFixed(1)}`);
    }
    const sub = report.byRoute['/v1/records']!;
    const base = baseline.byRoute['/v1/records']!;
    line(`submission p99 under soak ${pct(sub.latencies, 99).toFixed(1)} ms vs one connection alone ${pct(base.latencies, 99).toFixed(1)} ms (p50 ${pct(base.latencies, 50).toFixed(1)} ms, ${base.latencies.length} submissions): ratio ${(pct(sub.latencies, 99) / pct(base.latencies, 99)).toFixed(2)}`);
    // The server's own measure of accepted submissions (its histogram's buckets, this soak
    // only): what the client sees beyond it is time on the wire and in the client's process.
    const served = (m: string) => {
      const counts = new Map<string, number>();
      for (const [, le, n] of m.matchAll(/^zktrust_http_request_duration_seconds_bucket\{le="([^"]+)",method="POST",route="[^"]*records",status="201"\} (\d+)$/gm)) counts.set(le!, Number(n));
      return counts;
    };
    const [c0, c1] = [served(metrics0), served(metrics1)];
    const within = (le: string) => (c1.get(le) ?? 0) - (c0.get(le) ?? 0);
    const total = within('+Inf');
    if (total > 0) line(`the server's own timing of the ${total} accepted submissions: ${['0.025', '0.05', '0.1', '0.25'].map((le) => `${((100 * within(le)) / total).toFixed(1)}% within ${1000 * Number(le)} ms`).join(', ')}`);
    // Synced group writes of the log (group commit), from the server's histogram.
    const writes = (m: string) => new Map([...m.matchAll(/^zktrust_log_write_duration_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map(([, le, n]) => [le!, Number(n)]));
    const [w0, w1] = [writes(metrics0), writes(metrics1)];
    const wrote = (le: string) => (w1.get(le) ?? 0) - (w0.get(le) ?? 0);
    const nWrites = wrote('+Inf');
    if (nWrites > 0) line(`synced log writes during the soak: ${nWrites} (${(total / nWrites).toFixed(1)} accepted submissions each), ${['0.005', '0.025', '0.05', '0.1'].map((le) => `${((100 * wrote(le)) / nWrites).toFixed(1)}% within ${1000 * Number(le)} ms`).join(', ')}`);
    line(`the load generator's process: ${(report.cpuMs / 1000).toFixed(1)} s of CPU in ${seconds} s, its event loop's delay p50 ${report.loopDelayMs.p50.toFixed(1)} ms, p99 ${report.loopDelayMs.p99.toFixed(1)} ms, max ${report.loopDelayMs.max.toFixed(1)} ms`);
    line(`the server's event loop during the soak: delay p50 ${(loop.percentile(50) / 1e6).toFixed(1)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`);
    if (report.exhausted) line(`${report.exhausted} submitters sent all their ${perSubmitter} submissions before the end`);
    line(`/v1/health during the soak: ${health.length} probes, p50 ${pct(health, 50).toFixed(1)} ms, p99 ${pct(health, 99).toFixed(1)} ms, max ${Math.max(...health).toFixed(1)} ms`);
    line(`during the soak: ${after.size - before.size} records accepted, ${after.batches - before.batches} batches proven; server RSS ${(rss0 / 2 ** 20).toFixed(0)} -> ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
    line(`logged: ${logged.size ? JSON.stringify(Object.fromEntries(logged)) : 'no warning, no error'}`);
    for (const [key, detail] of Object.entries(report.details)) line(`${key}, for instance: ${detail}`);
    line(unexpected.length ? `UNEXPECTED answers: ${unexpected.join(', ')}` : 'unexpected answers: none (only 2xx, 429 and 503)');
  } catch (e) {
    line(`soak failed: ${(e as Error).message} ${String((e as { cause?: unknown }).cause ?? '')}; logged: ${JSON.stringify(Object.fromEntries(logged))}`);
    throw e;
  } finally {
    await svc.close();
    await rm(dir, { recursive: true, force: true });
  }
}
