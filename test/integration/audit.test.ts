/**
 * `audit` against a real service: a clean log and its batches pass; a tampered log entry, a
 * tampered batch proof and a checkpoint whose day is before its batch's maxEpoch (edited in the
 * store behind the service's back) are detected.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.ts';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import { buildSubmission } from '../../src/client/submission.ts';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { Store, numKey } from '../../src/store/db.ts';
import { ROOT } from '../helpers/circuit.ts';
import { MerkleLog, leafHash } from '../../src/log/merkle-log.ts';
import { canonicalJson } from '../../src/crypto/canonical.ts';
import { DEV_KEYS } from '../helpers/keys.ts';

let dir: string;
let svc: RunningService;
const config = () => ({ ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ...DEV_KEYS }), port: 0, dataDir: join(dir, 'data'), adminToken: 't', batchMaxWaitMs: 100 });
const orgs = [generateKeyPair(), generateKeyPair()];
const agents = Array.from({ length: 5 }, () => didFromPublicKey(generateKeyPair().publicKey));

async function restartWith(edit: (store: Store) => Promise<void>): Promise<void> {
  await svc.close();
  const store = await Store.open(join(dir, 'data', 'db'));
  await edit(store);
  await store.close();
  svc = await startService(config(), () => {});
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-audit-'));
  svc = await startService(config(), () => {});
  for (const o of orgs) {
    await fetch(`${svc.url}/v1/admin/orgs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body: JSON.stringify({ name: 'o', publicKey: Buffer.from(o.publicKey).toString('hex') }) });
  }
  for (const [k, o] of orgs.entries()) {
    const body = buildSubmission(o.secretKey, agents.map((agent, i) => ({ agent, epoch: 1, kept: 3 + i + k, broken: i % 2, violations: 0 })));
    expect((await fetch(`${svc.url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status).toBe(201);
  }
  await svc.aggregator.drain(120_000);
}, 180_000);

afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('audit', () => {
  it('passes on an honest log and checks everything', async () => {
    const r = await audit(svc.url, { aggregator: svc.aggregator.did });
    expect(r.failures).toEqual([]);
    expect(r).toMatchObject({ ok: true, organisations: 2, entries: 10, submissions: 2, provenEntries: 10 });
    // Five new agents, two insert slots per batch: at least three batches (more when the
    // second submission arrives after a batch closed).
    expect(r.batches).toBeGreaterThanOrEqual(3);
    // The same through the command line (asynchronously: the server runs in this process).
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'audit', svc.url, '--json', '--aggregator', svc.aggregator.did], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, entries: 10, batches: r.batches });
  }, 60_000);

  it('checks that the log extends an earlier tree head', async () => {
    const head = (await (await fetch(`${svc.url}/v1/log/head`)).json()) as { body: { size: number; root: string } };
    const sameEarlier = await audit(svc.url, { aggregator: svc.aggregator.did, previousHead: { size: 4, root: '' } });
    expect(sameEarlier.failures.join('\n')).toMatch(/not consistent with the earlier head of size 4/);
    expect((await audit(svc.url, { aggregator: svc.aggregator.did, previousHead: head.body })).ok).toBe(true);
    // An honest earlier head: the root of the first 4 entries.
    const entries = (await (await fetch(`${svc.url}/v1/log/entries?start=0&end=4`)).json()) as Array<{ commitment: string; org: string; orgIndex: number; submission: string }>;
    const early = new MerkleLog();
    for (const e of entries) early.append(leafHash(new TextEncoder().encode(canonicalJson({ commitment: e.commitment, org: e.org, orgIndex: e.orgIndex, submission: e.submission }))));
    expect((await audit(svc.url, { aggregator: svc.aggregator.did, previousHead: { size: 4, root: Buffer.from(early.root()).toString('hex') } })).ok).toBe(true);
    const forked = await audit(svc.url, { aggregator: svc.aggregator.did, previousHead: { size: head.body.size, root: '00'.repeat(32) } });
    expect(forked.ok).toBe(false);
    const grown = await audit(svc.url, { aggregator: svc.aggregator.did, previousHead: { size: head.body.size + 5, root: head.body.root } });
    expect(grown.failures.join('\n')).toMatch(/shrank/);
  });

  it('detects a pinned aggregator key that is not the server\'s', async () => {
    const r = await audit(svc.url, { aggregator: didFromPublicKey(generateKeyPair().publicKey) });
    expect(r.ok).toBe(false);
    expect(r.failures.join('\n')).toMatch(/signature by the aggregator does not verify/);
  });

  it('detects a tampered batch proof', async () => {
    await restartWith(async (store) => {
      const b = (await store.get<{ proof: { pi_a: string[]; pi_c: string[] } }>('batches', numKey(2)))!;
      b.proof.pi_a = b.proof.pi_c;
      await store.write([{ type: 'put', sub: 'batches', key: numKey(2), value: b }]);
    });
    const r = await audit(svc.url, { aggregator: svc.aggregator.did });
    expect(r.ok).toBe(false);
    expect(r.failures).toContain('batch 2: the proof does not verify');
  }, 60_000);

  it('detects a checkpoint whose day is before its batch\'s maxEpoch', async () => {
    await restartWith(async (store) => {
      const b = (await store.get<{ checkpoint: { body: { time: number } } }>('batches', numKey(3)))!;
      b.checkpoint.body.time -= 2 * 86_400_000;
      await store.write([{ type: 'put', sub: 'batches', key: numKey(3), value: b }]);
    });
    const r = await audit(svc.url, { aggregator: svc.aggregator.did });
    expect(r.ok).toBe(false);
    expect(r.failures.join('\n')).toMatch(/batch 3: its maxEpoch \d+ is after the day of its checkpoint plus the allowed skew/);
  }, 60_000);

  it('detects a tampered log entry', async () => {
    // The log derives entries from the stored submissions: alter entry 1's commitment there.
    let id = '';
    await restartWith(async (store) => {
      for await (const [key, s] of store.range<{ firstIndex: number; org: string; nonce: string; commitments: string[] }>('submissions')) {
        if (s.firstIndex > 1 || s.firstIndex + s.commitments.length <= 1) continue;
        s.commitments[1 - s.firstIndex] = (BigInt(s.commitments[1 - s.firstIndex]!) + 1n).toString();
        id = `${s.org}/${s.nonce}`;
        await store.write([{ type: 'put', sub: 'submissions', key, value: s }]);
      }
    });
    const r = await audit(svc.url, { aggregator: svc.aggregator.did });
    expect(r.ok).toBe(false);
    expect(r.failures).toContain(`submission ${id}: the organisation's signature does not verify`);
    expect(r.failures.some((f) => /batch 1: its chain is not the chain/.test(f))).toBe(true);
  }, 60_000);
});
