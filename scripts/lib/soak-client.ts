/**
 * The soak load generator (scripts/bench-soak.ts), in its own process so that its work does
 * not share the server's event loop. From a plan file it opens one keep-alive connection per
 * client, each with its own address (X-Forwarded-For, the service trusting the loopback
 * proxy), for a given time:
 *   - submitters post their pre-built signed submissions in order (each owns its
 *     (agent, organisation) pairs, so epochs only grow in log order);
 *   - presenters ask a challenge and then a threshold presentation for their agent, signing
 *     the request here (a fresh context each time: every one is proven).
 * Prints {"byRoute": {route: {statuses, latencies}}} on stdout.
 *
 *   node --import tsx scripts/lib/soak-client.ts <plan.json>
 */
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildThresholdRequest } from '../../src/client/submission.ts';

export interface SoakPlan {
  url: string;
  seconds: number;
  submitters: Array<{ address: string; bodies: string[] }>;
  presenters: Array<{ address: string; secretKeyHex: string; did: string }>;
}

export interface SoakReport {
  /** Per route: the latencies (ms) of its answers by status (and problem code for refusals). */
  byRoute: Record<string, { statuses: Record<string, number[]>; latencies: number[] }>;
  /** Per refusal (status and code), the detail of its first answer. */
  details: Record<string, string>;
  /** Submitters that sent every submission they had before the end. */
  exhausted: number;
  /** This process's CPU time (user and system) and event-loop delay while it ran the plan. */
  cpuMs: number;
  loopDelayMs: { p50: number; p99: number; max: number };
}

const plan = JSON.parse(await readFile(process.argv[2]!, 'utf8')) as SoakPlan;
const agent = new Agent({ keepAlive: true, maxSockets: plan.submitters.length + plan.presenters.length });
const report: SoakReport = { byRoute: {}, details: {}, exhausted: 0, cpuMs: 0, loopDelayMs: { p50: 0, p99: 0, max: 0 } };
const end = performance.now() + plan.seconds * 1000;
const cpu0 = process.cpuUsage();
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();

function post(path: string, body: string, address: string): Promise<{ status: number; text: string; retryAfterS: number }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, plan.url), { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-forwarded-for': address } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        const r = (report.byRoute[path] ??= { statuses: {}, latencies: [] });
        // A refusal is counted by status and problem code.
        const key = res.statusCode! >= 400 ? `${res.statusCode} ${/"code":"(\w+)"/.exec(text)?.[1] ?? '?'}` : String(res.statusCode);
        const ms = performance.now() - t;
        if (res.statusCode! >= 400) report.details[key] ??= /"detail":"([^"]*)"/.exec(text)?.[1] ?? '';
        (r.statuses[key] ??= []).push(ms);
        r.latencies.push(ms);
        resolve({ status: res.statusCode!, text, retryAfterS: Number(res.headers['retry-after'] ?? 1) || 1 });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

await Promise.all([
  ...plan.submitters.map(async (s) => {
    for (const body of s.bodies) {
      if (performance.now() >= end) return;
      const { status, retryAfterS } = await post('/v1/records', body, s.address);
      // A refusal that says when to come back: the client waits that long (at most 5 s).
      if (status === 429 || status === 503) await pause(1000 * Math.min(5, retryAfterS));
    }
    report.exhausted++;
  }),
  ...plan.presenters.map(async (p, i) => {
    const secretKey = Uint8Array.from(Buffer.from(p.secretKeyHex, 'hex'));
    for (let k = 0; performance.now() < end; k++) {
      const ch = await post('/v1/agents/challenge', JSON.stringify({ agent: p.did }), p.address);
      if (ch.status !== 201) {
        await pause(1000);
        continue;
      }
      const context = { nonce: `soak-${i}-${k}`, audience: 'https://soak.example', expiry: Math.floor(Date.now() / 1000) + 600 };
      const body = JSON.stringify(buildThresholdRequest(secretKey, (JSON.parse(ch.text) as { challenge: string }).challenge, { minScore: 0, context }));
      const { status, retryAfterS } = await post('/v1/proofs/threshold', body, p.address);
      if (status === 429 || status === 503) await pause(1000 * Math.min(5, retryAfterS));
    }
  }),
]);
loop.disable();
const cpu = process.cpuUsage(cpu0);
report.cpuMs = (cpu.user + cpu.system) / 1000;
report.loopDelayMs = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
agent.destroy();
process.stdout.write(JSON.stringify(report));
