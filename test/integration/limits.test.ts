/**
 * Limits of the service: per-organisation rate limiting (429) and backpressure (503) when the
 * prover could not meet the receipt deadline; refused submissions store nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import { buildSubmission } from '../../src/client/submission.ts';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { registerOrgs } from '../helpers/service.ts';
import { DEV_KEYS } from '../helpers/keys.ts';

let dir: string;
let svc: RunningService;
const org = generateKeyPair();
const other = generateKeyPair();
const agent = didFromPublicKey(generateKeyPair().publicKey);
const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
  const r = await fetch(svc.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json(), retryAfter: r.headers.get('retry-after') };
};
const size = async () => ((await (await fetch(svc.url + '/v1/log/head')).json()) as { body: { size: number } }).body.size;
// One agent, a record per day: its first record is an insert, the others updates.
let day = 1;
const records = (n: number) => Array.from({ length: n }, () => ({ agent, epoch: day++, kept: 1, broken: 0, violations: 0 }));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-limits-'));
  // Capacity: 0.8 * 30 s / (1 s per record * 5 slots) = 4 batches; one agent's first record is
  // an insert and the others updates (3 per batch of the test configuration), so at most
  // floor(1 / 2) + floor((n - 1) / 3) + 1 <= 4 batches: 12 records. 3 requests per org before refusal.
  svc = await startService({ ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ...DEV_KEYS }), port: 0, dataDir: join(dir, 'data'), adminToken: 't', receiptDeadlineMs: 30_000, expectedMsPerRecord: 1000, ratePerSecond: 0.01, burst: 3, addressRatePerSecond: 1e6, addressBurst: 1e6 }, () => {});
  await svc.aggregator.stop();
  await registerOrgs(svc.url, 't', [org, other]);
}, 60_000);
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('service limits', () => {
  it('refuses a submission larger than what can ever be proven before the deadline (413), storing nothing', async () => {
    const big = await post('/v1/records', buildSubmission(other.secretKey, records(13)));
    expect([big.status, big.json.code]).toEqual([413, 'payload_too_large']);
    expect(big.json.detail).toMatch(/at most 4 batches/);
    expect(await size()).toBe(0);
  });

  it('refuses records the prover could not reach before the deadline (503), then rate-limits the org (429)', async () => {
    expect((await post('/v1/records', buildSubmission(org.secretKey, records(9)))).status).toBe(201);
    const over = await post('/v1/records', buildSubmission(org.secretKey, records(4)));
    expect([over.status, over.json.code, over.retryAfter]).toEqual([503, 'unavailable', '5']);
    expect(await size()).toBe(9);
    expect((await post('/v1/records', buildSubmission(org.secretKey, records(3)))).status).toBe(201);
    const limited = await post('/v1/records', buildSubmission(org.secretKey, records(1)));
    expect([limited.status, limited.json.code]).toEqual([429, 'rate_limited']);
    expect(await size()).toBe(12);
  });
});
