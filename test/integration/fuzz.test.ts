/**
 * A schema-driven fuzzer against a real service (test configuration): at least 10,000
 * hostile requests over every endpoint of the route table, made from the endpoints' own
 * schemas (test/helpers/hostile.ts: plausible values, values just outside their bounds, wrong
 * types, junk), with hostile paths, queries, bodies, content types and headers, and unknown
 * routes and methods. Every answer must be below 500 and every refusal a problem+json; nothing
 * may be stored; and /v1/health, polled throughout, must never freeze (every answer within
 * a second: a freeze bound, not a speed figure; its latency is measured by npm run bench).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes, type Route } from '../../src/api/routes.ts';
import { OrgClient } from '../../src/client/org-client.ts';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { hostileFor, junk } from '../helpers/hostile.ts';
import { DEV_KEYS } from '../helpers/keys.ts';
import { registerOrgs } from '../helpers/service.ts';

const REQUESTS = 10_000;
let dir: string;
let svc: RunningService;

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

/** JSON that also carries the big integers the hostile generators produce. */
const json = (v: unknown): string | undefined => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));

/** encodeURIComponent that survives lone surrogates (it throws on them). */
const encode = (s: string): string => encodeURIComponent(s.replace(/\p{Cs}/gu, '\uFFFD'));

const pathSegment = (v: unknown): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(encode(typeof v === 'string' ? v : json(v) ?? 'x')) },
    { weight: 1, arbitrary: fc.constantFrom('%E0%A4%A', '%', '%%', '%00', '..', '.', '%2F..%2F', 'a%ZZ', '\u00e9', '', 'latest') },
  );

/** Requests around one route, from its schemas. */
function requestsFor(r: Route): fc.Arbitrary<FuzzRequest> {
  const names = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);
  const params = r.params ? hostileFor(r.params) : fc.constant({});
  const query = r.query ? hostileFor(r.query) : fc.oneof(fc.constant({}), fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 20 }), { maxKeys: 3 }));
  const body = r.body?.contentType === 'application/json' ? fc.oneof({ weight: 6, arbitrary: hostileFor(r.body.schema).map((b) => json(b) ?? 'null') }, { weight: 1, arbitrary: fc.constantFrom('{', '{"a":', '[]', '"x"', 'null', '{"records":[' + '{},'.repeat(500) + '{}]}', '\u0000', '{"__proto__":{"x":1}}') }) : fc.uint8Array({ maxLength: 300 });
  const contentType = fc.constantFrom(r.body?.contentType ?? 'application/json', 'application/json', 'application/octet-stream', 'text/plain', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x');
  const extraHeaders = fc.record(
    {
      authorization: fc.constantFrom('Bearer wrong', 'Bearer ', 'Basic dTpw', 'Bearer ' + 'a'.repeat(200)),
      'zktrust-statement': fc.oneof(fc.base64String({ maxLength: 200 }), fc.string({ maxLength: 50 })),
      'zktrust-signature': fc.oneof(fc.stringMatching(/^[0-9a-f]{0,140}$/), fc.constant('0'.repeat(128))),
      'x-request-id': fc.string({ maxLength: 80 }).filter((s) => /^[\x20-\x7e]*$/.test(s)),
    },
    { requiredKeys: [] },
  );
  return fc.tuple(params, query, body, contentType, extraHeaders, fc.array(fc.constantFrom(...names, ''), { maxLength: 0 })).chain(([p, q, b, ct, h]) =>
    fc.tuple(...names.map((n) => pathSegment((p as Record<string, unknown> | null)?.[n] ?? junk))).map((segments) => {
      let i = 0;
      const path = r.path.replace(/:([A-Za-z]+)/g, () => segments[i++] ?? '');
      const qs = q && typeof q === 'object' ? new URLSearchParams(Object.entries(q as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? v : json(v) ?? ''])).toString() : '';
      const headers: Record<string, string> = { ...(h as Record<string, string>), 'content-type': ct };
      return { method: r.method.toUpperCase(), path: qs ? `${path}?${qs}` : path, headers, ...(r.method === 'post' ? { body: b } : {}) };
    }),
  );
}

/** Requests no route expects: unknown paths and methods. */
const strangers: fc.Arbitrary<FuzzRequest> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
  path: fc.oneof(fc.webPath(), fc.constantFrom('/v1', '/v1/', '/v1/admin', '/v1/records/1', '//v1/keys', '/v1/keys/%E0%A4%A/x.zkey', '/%2e%2e/etc/passwd', '/v1/ceremony/..%2F..%2Fetc/latest.zkey')),
  headers: fc.constant({ 'content-type': 'application/json' }),
  body: fc.option(fc.json({ maxDepth: 3 }), { nil: undefined }),
});

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-fuzz-'));
  svc = await startService({ ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ...DEV_KEYS }), port: 0, dataDir: join(dir, 'data'), adminToken: 'the-real-admin-token', ratePerSecond: 1e6, burst: 1e6, addressRatePerSecond: 1e6, addressBurst: 1e6, downloadsPerMinute: 1e6, batchMaxWaitMs: 100 }, () => {});
  // Some state to protect: an organisation, a proven record.
  const org = generateKeyPair();
  await registerOrgs(svc.url, 'the-real-admin-token', [org]);
  await new OrgClient(org.secretKey, svc.url, svc.aggregator.did).submit([{ agent: didFromPublicKey(generateKeyPair().publicKey), epoch: 20_000, kept: 5, broken: 0, violations: 0 }]);
  await svc.aggregator.drain(120_000);
  // No proving while the fuzzer runs: the health latency measured is the service's own.
  await svc.aggregator.stop();
}, 180_000);

afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('fuzzing every endpoint', () => {
  it(`${REQUESTS} hostile requests: no 5xx, problem+json refusals, nothing stored, health never frozen`, async () => {
    const state = async () => ({
      head: ((await (await fetch(`${svc.url}/v1/log/head`)).json()) as { body: { size: number } }).body.size,
      orgs: JSON.stringify(await (await fetch(`${svc.url}/v1/orgs`)).json()),
      checkpoint: svc.aggregator.latestCheckpoint()!.body.sequence,
      ceremony: (await fetch(`${svc.url}/v1/ceremony`)).status,
      pending: svc.aggregator.pending,
    });
    const before = await state();
    const table = routes(svc.handle.config.maxRecordsPerSubmission);
    const all = fc.oneof(...table.map((r) => ({ weight: r.body ? 3 : 1, arbitrary: requestsFor(r) })), { weight: 2, arbitrary: strangers });
    const requests = fc.sample(all, { numRuns: REQUESTS, seed: 20261129 });

    // Health, polled every 20 ms while the requests run.
    const latencies: number[] = [];
    let fuzzing = true;
    const poller = (async () => {
      while (fuzzing) {
        const t0 = performance.now();
        const r = await fetch(`${svc.url}/v1/health`);
        await r.arrayBuffer();
        latencies.push(performance.now() - t0);
        await new Promise((res) => setTimeout(res, 20));
      }
    })();

    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const q = requests[next++]!;
        let res: Response;
        try {
          res = await fetch(`${svc.url}${q.path}`, { method: q.method, headers: q.headers, ...(q.body !== undefined && q.method !== 'GET' ? { body: typeof q.body === 'string' ? q.body : new Blob([q.body as Uint8Array<ArrayBuffer>]) } : {}) });
        } catch (e) {
          // An invalid request that fetch itself refuses to send (a bad header value, say).
          if (e instanceof TypeError && !String((e as { cause?: unknown }).cause ?? '').includes('ECONN')) continue;
          failures.push(`${q.method} ${q.path}: ${(e as Error).message}`);
          continue;
        }
        const text = await res.text();
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        // The sequencer is stopped (the state must not move): readiness rightly says so.
        const readinessOfStoppedSequencer = q.path.startsWith('/v1/ready') && res.status === 503 && /"sequencer":\{"ok":false,"detail":"stopped"\}/.test(text);
        if (res.status >= 500 && !readinessOfStoppedSequencer) failures.push(`${q.method} ${q.path.slice(0, 100)} -> ${res.status} ${text.slice(0, 200)}`);
        else if (res.status >= 400 && !readinessOfStoppedSequencer && !/application\/problem\+json/.test(res.headers.get('content-type') ?? '')) failures.push(`${q.method} ${q.path.slice(0, 100)} -> ${res.status} without problem+json`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    fuzzing = false;
    await poller;

    const sent = [...statuses.values()].reduce((a, b) => a + b, 0);
    console.log(`fuzz: ${sent} answers by status ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
    expect(failures.slice(0, 10)).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(REQUESTS * 0.95);
    expect(await state()).toEqual(before);
    latencies.sort((a, b) => a - b);
    const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
    console.log(`health while fuzzing: ${latencies.length} polls, p50 ${latencies[latencies.length >> 1]!.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`);
    expect(latencies.length).toBeGreaterThan(20);
    expect(latencies.at(-1)!).toBeLessThan(1000);
  }, 300_000);
});
