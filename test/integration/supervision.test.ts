/**
 * Supervision and the agents' side of the service (test configuration, real proofs):
 *   - kill -9 of the batch prover's child while it proves: the child is restarted, the batch
 *     proven, every receipt honoured before its deadline; readiness and metrics tell it;
 *   - a flood of presentations meets a bounded prover queue: 503 with Retry-After, never an
 *     unbounded pile; each agent has its own presentation budget (429);
 *   - privacy of the verifier's context: everything the aggregator receives (recorded by a
 *     real proxy in front of it), logs and stores never contains the verifier's nonce or
 *     audience, and the presentation still verifies against them.
 */
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/client/agent-client.ts';
import { ClientError, OrgClient, type Receipt } from '../../src/client/org-client.ts';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { createVerifier } from '../../src/verifier/presentation.ts';
import { DEV_KEYS } from '../helpers/keys.ts';
import { registerOrgs } from '../helpers/service.ts';

let dir: string;
let svc: RunningService;
const logs: string[] = [];
const org = generateKeyPair();
const agents = Array.from({ length: 6 }, () => generateKeyPair());
const PER_AGENT = 3;
const QUEUE = 2;
const context = (nonce: string) => ({ nonce, audience: `https://verifier.example/${nonce}`, expiry: Math.floor(Date.now() / 1000) + 600 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-supervision-'));
  svc = await startService(
    { ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ...DEV_KEYS }), port: 0, dataDir: join(dir, 'data'), adminToken: 't', batchMaxWaitMs: 100, receiptDeadlineMs: 120_000, maxQueuedPresentations: QUEUE, presentationsPerMinute: PER_AGENT },
    (e) => logs.push(JSON.stringify(e)),
  );
  await registerOrgs(svc.url, 't', [org]);
}, 120_000);
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('supervision', () => {
  it('kill -9 of the prover child during a batch: restarted, the batch proven, every receipt honoured', async () => {
    const client = new OrgClient(org.secretKey, svc.url, svc.aggregator.did);
    const batchProver = () => svc.aggregator.proverStatus().find((p) => p.name.startsWith('batch-update'))!;
    // Records for every agent: three batches' worth of inserts (two new agents a batch).
    const receipts: Receipt[] = [];
    for (const [i, a] of agents.entries()) receipts.push((await client.submit([{ agent: didFromPublicKey(a.publicKey), epoch: 1, kept: 20 + i, broken: 1, violations: 0 }])).receipt);
    // Wait for a proof in progress on a running child, let it get going, kill it.
    let status = batchProver();
    for (let t = 0; !(status.queue > 0 && status.pid !== undefined && status.state === 'ready'); t++) {
      if (t > 3000) throw new Error(`no batch proof started: ${JSON.stringify(status)}`);
      await sleep(10);
      status = batchProver();
    }
    await sleep(150);
    const victim = status.pid!;
    process.kill(victim, 'SIGKILL');
    // Readiness tells the restart as it happens or once it happened.
    await svc.aggregator.drain(120_000);
    const after = batchProver();
    expect(after.restarts).toBe(1);
    expect(after.pid).not.toBe(victim);
    expect(after.lastError).toMatch(/SIGKILL|exit|died/i);
    expect(logs.some((l) => l.includes('batch proof failed; retrying'))).toBe(true);
    // Every receipt: its entries proven, in a checkpoint signed before its deadline.
    const last = receipts.at(-1)!;
    const checkpoint = await client.waitUntilProven(last.body.firstIndex + last.body.count, { timeoutMs: 60_000 });
    for (const r of receipts) expect(checkpoint.body.time).toBeLessThanOrEqual(r.body.deadline);
    const ready = (await (await fetch(`${svc.url}/v1/ready`)).json()) as any;
    expect(ready.status).toBe('ready');
    expect(Object.entries<any>(ready.components).find(([k]) => k.startsWith('prover batch-update'))![1].detail).toMatch(/1 restarts/);
    // Every failed proof is counted: the one proving, and the one built ahead that waited on the
    // same child (the sequencer keeps a batch ready behind the one being proven).
    const failed = logs.filter((l) => l.includes('batch proof failed; retrying')).length;
    expect([1, 2]).toContain(failed);
    expect(await (await fetch(`${svc.url}/metrics`)).text()).toMatch(new RegExp(`zktrust_batch_failures_total ${failed}\\b`));
  }, 240_000);

  it('presentations: a bounded prover queue answers 503 with Retry-After; each agent has its own budget (429)', async () => {
    // Six agents at once against a queue of two: some wait their turn, the rest are told to come back.
    const outcomes = await Promise.allSettled(agents.map((a, i) => new AgentClient(a.secretKey, svc.url).present({ minScore: 0, context: context(`flood-${i}`) })));
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as ClientError);
    for (const e of refused) expect([e.status, e.code, e.retryAfterS! > 0]).toEqual([503, 'unavailable', true]);
    expect(refused.length).toBeGreaterThanOrEqual(agents.length - QUEUE - 1);
    expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBeGreaterThanOrEqual(QUEUE);
    // One agent, over its budget: refused by its own limit, whatever the queue.
    const one = new AgentClient(agents[0]!.secretKey, svc.url);
    const answers: Array<ClientError | undefined> = [];
    for (let k = 0; k < PER_AGENT + 1; k++) answers.push(await one.present({ minScore: 0, context: context(`again-${k}`) }).then(() => undefined, (e: ClientError) => e));
    expect(answers.at(-1)).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(answers.at(-1)!.retryAfterS).toBeGreaterThan(0);
    // Another agent is not held by it.
    await expect(new AgentClient(agents[5]!.secretKey, svc.url).present({ minScore: 0, context: context('other') })).resolves.toBeDefined();
  }, 240_000);
});

describe("privacy of the verifier's context", () => {
  let proxy: Server;
  const seen: Buffer[] = [];

  beforeAll(async () => {
    // A real HTTP proxy that records every byte an agent sends to the aggregator.
    const target = new URL(svc.url);
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [Buffer.from(`${req.method} ${req.url}\n${JSON.stringify(req.headers)}\n`)];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks.slice(1));
        seen.push(Buffer.concat(chunks));
        const up = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
          res.writeHead(r.statusCode!, r.headers);
          r.pipe(res);
        });
        up.end(body);
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => new Promise<void>((r) => proxy.close(() => r())));

  it('the aggregator never receives, logs or stores the nonce or the audience; the presentation verifies against them', async () => {
    const nonce = `n-${crypto.randomUUID()}`;
    const audience = `https://relying-party-${crypto.randomUUID()}.example`;
    const agent = agents[3]!;
    const expiry = Math.floor(Date.now() / 1000) + 600;
    const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const presentation = await new AgentClient(agent.secretKey, url).present({ minScore: 0, context: { nonce, audience, expiry } });
    const sent = Buffer.concat(seen).toString('latin1');
    expect(sent).toContain('/v1/proofs/threshold');
    for (const secret of [nonce, audience]) {
      expect(sent.includes(secret), 'sent to the aggregator').toBe(false);
      expect(logs.some((l) => l.includes(secret)), 'in its logs').toBe(false);
    }
    // Nor anywhere in its data directory (LevelDB's files, keys, everything).
    const files = (await readdir(join(dir, 'data'), { recursive: true, withFileTypes: true })).filter((f) => f.isFile());
    expect(files.some((f) => f.name.endsWith('.log') || f.name.endsWith('.ldb'))).toBe(true);
    for (const f of files) {
      const bytes = (await readFile(join(f.parentPath, f.name))).toString('latin1');
      expect(bytes.includes(nonce) || bytes.includes(audience), join(f.parentPath, f.name)).toBe(false);
    }
    const verifier = createVerifier({ aggregatorKeys: [svc.aggregator.did], allowInsecureKeys: true });
    const result = await verifier.verifyPresentation(presentation, { agent: didFromPublicKey(agent.publicKey), minScore: 0, context: { nonce, audience }, maxAgeS: 600 });
    expect(result).toMatchObject({ ok: true });
    // And it is bound to them: another audience is refused.
    expect(await verifier.verifyPresentation(presentation, { agent: didFromPublicKey(agent.publicKey), minScore: 0, context: { nonce, audience: 'https://other.example' }, maxAgeS: 600 })).toMatchObject({ ok: false });
  }, 120_000);
});
