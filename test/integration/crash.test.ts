/**
 * Crash safety: the service runs in a child process and is killed with SIGKILL at random
 * moments during a stream of submissions, 20 times. After each restart every acknowledged
 * record is in the log, no submission is half-written, the replayed state reaches the last
 * checkpoint (the service refuses to start otherwise) and the log only grew.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import { buildSubmission } from '../../src/client/submission.ts';
import { startChildService, type ChildService } from '../helpers/child-service.ts';

const ROUNDS = 20;
let dir: string;
const org = generateKeyPair();
const agents = Array.from({ length: 12 }, () => didFromPublicKey(generateKeyPair().publicKey));

let child: ChildService | undefined;
async function startServer(): Promise<{ url: string; proc: ChildService }> {
  child = await startChildService({ ZKTRUST_CIRCUITS: 'test', ZKTRUST_INSECURE_DEV_KEYS: '1', ZKTRUST_DATA_DIR: join(dir, 'data'), ZKTRUST_ADMIN_TOKEN: 'crash-admin', ZKTRUST_BATCH_MAX_WAIT_MS: '100', ZKTRUST_RATE_PER_SECOND: '10000', ZKTRUST_RATE_BURST: '10000' });
  return { url: child.url, proc: child };
}

async function killHard(proc: ChildService): Promise<void> {
  if (proc.proc.exitCode !== null || proc.proc.signalCode !== null) throw new Error(`the server died by itself:\n${proc.stderr().slice(-3000)}`);
  await proc.kill();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-crash-'));
}, 60_000);

afterAll(async () => {
  await child?.kill();
  await rm(dir, { recursive: true, force: true });
});

describe('crash safety', () => {
  it(`keeps every acknowledged record across ${ROUNDS} SIGKILLs`, async () => {
    const acked = new Map<string, string>(); // commitment -> submission id
    let lastSize = 0;
    // One record per (agent, organisation, epoch): every submission takes the next epoch.
    let epoch = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const { url, proc } = await startServer();
      if (round === 0) {
        const r = await fetch(`${url}/v1/admin/orgs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer crash-admin' }, body: JSON.stringify({ name: 'crash org', publicKey: Buffer.from(org.publicKey).toString('hex') }) });
        expect(r.status).toBe(201);
      }
      // Everything acknowledged before this restart is in the log, whole.
      const head = (await (await fetch(`${url}/v1/log/head`)).json()) as { body: { size: number } };
      expect(head.body.size).toBeGreaterThanOrEqual(lastSize);
      const seen = new Map<string, number>();
      const bySubmission = new Map<string, number>();
      for (let start = 0; start < head.body.size; start += 1000) {
        const entries = (await (await fetch(`${url}/v1/log/entries?start=${start}&end=${Math.min(head.body.size, start + 1000)}`)).json()) as Array<{ index: number; commitment: string; submission: string }>;
        for (const e of entries) {
          seen.set(e.commitment, e.index);
          bySubmission.set(e.submission, (bySubmission.get(e.submission) ?? 0) + 1);
        }
      }
      for (const c of acked.keys()) expect(seen.has(c), `acknowledged commitment missing after restart ${round}`).toBe(true);
      for (const n of bySubmission.values()) expect(n).toBe(3);
      lastSize = head.body.size;

      // A stream of submissions, killed at a random moment.
      const killAt = Date.now() + 150 + Math.floor(Math.random() * 900);
      let stop = false;
      const stream = (async () => {
        while (!stop) {
          const e = epoch++;
          const body = buildSubmission(org.secretKey, Array.from({ length: 3 }, (_, k) => ({ agent: agents[(round + k) % agents.length]!, epoch: e, kept: 2, broken: k % 2, violations: 0 })));
          try {
            const r = await fetch(`${url}/v1/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
            if (r.status === 201) for (const rec of body.records) acked.set(rec.commitment, `${body.org}/${body.nonce}`);
            else if (r.status !== 201) expect.fail(`unexpected status ${r.status}: ${await r.text()}`);
          } catch {
            return; // the server died mid-request: not acknowledged
          }
        }
      })();
      while (Date.now() < killAt) await new Promise((r) => setTimeout(r, 20));
      await killHard(proc);
      stop = true;
      await stream;
    }
    // A final start: the state replays to the last checkpoint and the sequencer catches up.
    const { url, proc } = await startServer();
    const health = (await (await fetch(`${url}/v1/health`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    expect(acked.size).toBeGreaterThan(ROUNDS);
    await killHard(proc);
  }, 600_000);
});
