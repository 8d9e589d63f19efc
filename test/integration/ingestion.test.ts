/**
 * Concurrent ingestion (a real server and LevelDB): submissions that arrive together are
 * appended together (group commit), each checked on its own: a nonce used twice in the same
 * group is refused once, the others land with disjoint, dense log ranges whose receipts and
 * inclusion proofs verify, and a restart finds exactly the acknowledged entries.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrgClient } from '../../src/client/org-client.ts';
import { buildSubmission } from '../../src/client/submission.ts';
import { signingBytes } from '../../src/crypto/canonical.ts';
import { generateKeyPair, verifyStrict } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey, publicKeyFromDid } from '../../src/crypto/identity.ts';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { registerOrgs } from '../helpers/service.ts';
import { DEV_KEYS } from '../helpers/keys.ts';

let dir: string;
let svc: RunningService;
const orgs = Array.from({ length: 3 }, () => generateKeyPair());
// 56 agents (the test tree holds 63): an organisation's concurrent submissions are about
// disjoint agents, as the order in which they land is not known and an organisation's epochs
// for one agent must increase in log order; within a submission they do.
const pool = Array.from({ length: 56 }, () => didFromPublicKey(generateKeyPair().publicKey));
const agents = pool.slice(0, 7);
const config = () => ({ ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ...DEV_KEYS }), port: 0, dataDir: join(dir, 'data'), adminToken: 't', ratePerSecond: 1e6, burst: 1e6, addressRatePerSecond: 1e6, addressBurst: 1e6 });
const post = async (body: unknown) => {
  const r = await fetch(svc.url + '/v1/records', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-ingestion-'));
  svc = await startService(config(), () => {});
  // Ingestion only: no batches are proven in this test.
  await svc.aggregator.stop();
  await registerOrgs(svc.url, 't', orgs);
}, 60_000);
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('concurrent ingestion', () => {
  it('appends concurrent submissions densely, refusing a nonce used twice in the same group', async () => {
    const bodies = Array.from({ length: 24 }, (_, k) =>
      buildSubmission(orgs[k % 3]!.secretKey, Array.from({ length: 1 + (k % 5) * 20 }, (_, i) => ({ agent: pool[Math.floor(k / 3) * 7 + (i % 7)]!, epoch: 100 + i, kept: i % 4, broken: 1, violations: 0 })), k === 23 ? { nonce: 'ab'.repeat(8) } : k === 20 ? { nonce: 'ab'.repeat(8) } : {}),
    );
    const writes = svc.aggregator.metrics.logWrites;
    const results = await Promise.all(bodies.map(post));
    // Group commit: each synced write appends one group, never an empty one, and every
    // receipt of a group carries the tree head of that write. (How many submissions share a
    // write depends on timing: on a slow day each may be alone, so the count is not pinned.)
    const groupWrites = svc.aggregator.metrics.logWrites - writes;
    expect(groupWrites).toBeGreaterThanOrEqual(1);
    expect(groupWrites).toBeLessThanOrEqual(23);
    const statuses = results.map((r) => r.status);
    // Orgs: k % 3, so bodies 20 and 23 are both org 2 with the same nonce: exactly one lands.
    expect(statuses.filter((s) => s === 201)).toHaveLength(23);
    expect([results[20]!.status, results[23]!.status].sort()).toEqual([201, 409]);
    const receipts = results.filter((r) => r.status === 201).map((r) => r.json);
    const ranges = receipts.map((r) => [r.body.firstIndex, r.body.count] as const).sort((a, b) => a[0] - b[0]);
    let next = 0;
    for (const [first, count] of ranges) {
      expect(first).toBe(next);
      next += count;
    }
    const head = (await (await fetch(`${svc.url}/v1/log/head`)).json()) as { body: { size: number } };
    expect(head.body.size).toBe(next);
    expect(new Set(receipts.map((r) => r.body.treeHead.size)).size).toBe(groupWrites);
    for (const r of receipts) {
      expect(r.body.treeHead.size).toBeGreaterThanOrEqual(r.body.firstIndex + r.body.count);
      expect(verifyStrict(Uint8Array.from(Buffer.from(r.signature, 'hex')), signingBytes('receipt', r.body), publicKeyFromDid(r.signer))).toBe(true);
    }
  }, 120_000);

  it('receipts of a concurrent burst pass the organisation client\'s inclusion check, and survive a restart', async () => {
    const clients = orgs.map((o) => new OrgClient(o.secretKey, svc.url, svc.aggregator.did));
    // Concurrent across organisations; each organisation's three days in order.
    const submitted = (
      await Promise.all(clients.map(async (c, k) => {
        const mine = [];
        for (const j of [0, 1, 2]) mine.push(await c.submit(agents.map((agent, i) => ({ agent, epoch: 1000 + j, kept: k + i, broken: 0, violations: j }))));
        return mine;
      }))
    ).flat();
    for (const [k, s] of submitted.entries()) expect(await clients[Math.floor(k / 3)]!.checkInclusion(s)).toBe(true);
    const head = async () => ((await (await fetch(`${svc.url}/v1/log/head`)).json()) as { body: { size: number; root: string } }).body;
    const before = await head();
    await svc.close();
    svc = await startService(config(), () => {});
    await svc.aggregator.stop();
    expect(await head()).toMatchObject({ size: before.size, root: before.root });
    const again = orgs.map((o) => new OrgClient(o.secretKey, svc.url, svc.aggregator.did));
    for (const [k, s] of submitted.entries()) expect(await again[Math.floor(k / 3)]!.checkInclusion(s)).toBe(true);
  }, 120_000);
});
