/**
 * The attacks of issue 11, run against `zktrust serve` in a child process (its own memory
 * and event loop), by a client with no credentials:
 *
 *   lockout  unsigned, forged and replayed requests naming a victim organisation, from many
 *            addresses, while the victim submits: every genuine submission is accepted (the
 *            organisation's budget is spent only by requests its key signed, and never twice
 *            by the same signature); a single flooding address is held by its own limit
 *   memory   300 bodies of about 1 MB with an `org` string of a million characters, from 300
 *            addresses: the resident memory stays bounded (before: 217 MB to 505 MB)
 *   freeze   120 submissions of 1,000 records from an unknown organisation or with a bad
 *            signature, while /v1/health is polled: no answer takes a second (before: six
 *            such requests made health take 1.3 s). A freeze bound, not a speed figure.
 *
 * The service trusts the loopback proxy, so each request's X-Forwarded-For is its address.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSubmission } from '../../src/client/submission.ts';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import { startChildService, type ChildService } from '../helpers/child-service.ts';
import { registerOrgs } from '../helpers/service.ts';

const ORG_BURST = 12;
const ADDRESS_BURST = 40;
let dir: string;
let svc: ChildService;
const victim = generateKeyPair();
const attacker = generateKeyPair();
const agents = Array.from({ length: 4 }, () => didFromPublicKey(generateKeyPair().publicKey));
let epoch = 1;

type Answer = { status: number; code?: string; headers: Headers };
async function post(path: string, body: unknown, from: string): Promise<Answer> {
  const r = await fetch(svc.url + path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': from }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await r.text();
  let code: string | undefined;
  try {
    code = (JSON.parse(text) as { code?: string }).code;
  } catch {
    code = undefined;
  }
  return { status: r.status, code, headers: r.headers };
}
const logSize = async () => ((await (await fetch(`${svc.url}/v1/log/head`, { headers: { 'x-forwarded-for': '192.0.2.250' } })).json()) as { body: { size: number } }).body.size;
/** A genuine submission of the victim: one record about one agent, each on its own day. */
const genuine = () => buildSubmission(victim.secretKey, [{ agent: agents[0]!, epoch: epoch++, kept: 3, broken: 0, violations: 0 }]);
/** n concurrent workers over the tasks. */
async function pool<T>(tasks: Array<() => Promise<T>>, n: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  }));
  return out;
}
/** The i-th attacker address (198.18.0.0/15, the benchmarking range). */
const address = (i: number) => `198.18.${(i >> 8) & 255}.${i & 255}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-attacks-'));
  svc = await startChildService({
    ZKTRUST_CIRCUITS: 'test', ZKTRUST_INSECURE_DEV_KEYS: '1', ZKTRUST_DATA_DIR: join(dir, 'data'), ZKTRUST_ADMIN_TOKEN: 'attacks-admin',
    ZKTRUST_TRUST_PROXY: 'loopback', ZKTRUST_BATCH_MAX_WAIT_MS: '200', ZKTRUST_LOG_LEVEL: 'warn',
    // Organisations: ORG_BURST signed requests, then one per 100 s. Addresses: ADDRESS_BURST, then 4 per second.
    ZKTRUST_RATE_PER_SECOND: '0.01', ZKTRUST_RATE_BURST: String(ORG_BURST), ZKTRUST_ADDRESS_RATE_PER_SECOND: '4', ZKTRUST_ADDRESS_BURST: String(ADDRESS_BURST),
  });
  await registerOrgs(svc.url, 'attacks-admin', [victim, attacker]);
}, 120_000);
afterAll(async () => {
  await svc?.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('attacks with no credentials', () => {
  it(`lockout: 300 unsigned, forged and replayed requests naming the victim leave all ${ORG_BURST} of its genuine submissions accepted`, async () => {
    const first = genuine();
    const accepted = [await post('/v1/records', first, '198.51.100.10')];
    // Every kind of request that names the victim without its key's fresh signature.
    const hostile = (i: number) => {
      const kind = i % 4;
      if (kind === 0) return { ...genuine(), signature: '0'.repeat(128) }; // no signature at all
      if (kind === 1) return { ...buildSubmission(attacker.secretKey, [{ agent: agents[1]!, epoch: 1000 + i, kept: 1, broken: 0, violations: 0 }]), org: first.org }; // the attacker's signature
      if (kind === 2) return first; // a replay of the victim's accepted submission
      return { ...first, nonce: first.nonce.replace(/.$/, (c) => (c === '0' ? '1' : '0')) }; // a replay with another nonce
    };
    const flood = pool(Array.from({ length: 300 }, (_, i) => () => post('/v1/records', hostile(i), address(i))), 8);
    for (let k = 1; k < ORG_BURST; k++) accepted.push(await post('/v1/records', genuine(), '198.51.100.10'));
    const answers = await flood;
    expect(accepted.map((a) => a.status)).toEqual(Array(ORG_BURST).fill(201));
    const codes = new Map<string, number>();
    for (const a of answers) codes.set(`${a.status} ${a.code}`, (codes.get(`${a.status} ${a.code}`) ?? 0) + 1);
    console.log(`lockout flood answers: ${JSON.stringify(Object.fromEntries(codes))}`);
    expect(Object.fromEntries(codes)).toEqual({ '401 invalid_signature': 225, '409 replayed_nonce': 75 });
    // The budget is the victim's own: its next signed request is the one refused.
    const over = await post('/v1/records', genuine(), '198.51.100.10');
    expect([over.status, over.code]).toEqual([429, 'rate_limited']);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await logSize()).toBe(ORG_BURST);
  }, 120_000);

  it('a single flooding address is held by its own limit, with RateLimit and Retry-After headers; others are not', async () => {
    const from = '203.0.113.66';
    const answers = await pool(Array.from({ length: ADDRESS_BURST + 20 }, () => () => post('/v1/agents/challenge', { agent: agents[2] }, from)), 4);
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(20);
    expect(limited.length).toBeLessThanOrEqual(20 + 4); // the window may turn during the flood
    for (const a of limited) {
      expect(a.code).toBe('rate_limited');
      expect(Number(a.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(a.headers.get('ratelimit-remaining')).toBe('0');
    }
    expect((await post('/v1/agents/challenge', { agent: agents[2] }, '203.0.113.67')).status).toBe(201);
  }, 60_000);

  it('memory: 300 bodies with a million-character org from 300 addresses leave the resident memory bounded', async () => {
    const body = JSON.stringify({ org: 'did:key:z' + 'A'.repeat(1_000_000), nonce: 'ab'.repeat(8), timestamp: Math.floor(Date.now() / 1000), records: [], signature: '0'.repeat(128) });
    const before = svc.rssMiB();
    const answers = await pool(Array.from({ length: 300 }, (_, i) => () => post('/v1/records', body, address(10_000 + i))), 8);
    await new Promise((r) => setTimeout(r, 500));
    const after = svc.rssMiB();
    console.log(`memory flood: RSS ${before.toFixed(0)} MiB -> ${after.toFixed(0)} MiB`);
    expect(new Set(answers.map((a) => `${a.status} ${a.code}`))).toEqual(new Set(['400 malformed']));
    // Bodies are parsed and dropped; no limiter or cache keeps anything derived from them.
    expect(after - before).toBeLessThan(96);
    expect((await fetch(`${svc.url}/v1/health`)).status).toBe(200);
  }, 120_000);

  it('freeze: 120 submissions of 1,000 records that cannot authenticate never hold /v1/health for a second', async () => {
    const big = buildSubmission(attacker.secretKey, Array.from({ length: 1000 }, (_, i) => ({ agent: agents[i % agents.length]!, epoch: 5000 + i, kept: 1, broken: 0, violations: 0 })));
    const stranger = JSON.stringify({ ...big, org: didFromPublicKey(generateKeyPair().publicKey) });
    const badSignature = JSON.stringify({ ...big, signature: 'f'.repeat(128) });
    let polling = true;
    const latencies: number[] = [];
    const poller = (async () => {
      while (polling) {
        const t0 = performance.now();
        expect((await fetch(`${svc.url}/v1/health`)).status).toBe(200);
        latencies.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const answers = await pool(Array.from({ length: 120 }, (_, i) => () => post('/v1/records', i % 2 ? stranger : badSignature, address(20_000 + i))), 8);
    polling = false;
    await poller;
    expect(new Set(answers.map((a) => `${a.status} ${a.code}`))).toEqual(new Set(['403 unknown_org', '401 invalid_signature']));
    latencies.sort((a, b) => a - b);
    console.log(`health during the freeze attack: ${latencies.length} polls, p50 ${latencies[latencies.length >> 1]!.toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`);
    expect(latencies.length).toBeGreaterThan(10);
    expect(latencies.at(-1)!).toBeLessThan(1000);
    expect(await logSize()).toBe(ORG_BURST);
  }, 120_000);
});
