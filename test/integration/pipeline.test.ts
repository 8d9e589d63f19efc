/**
 * The pipelined sequencer with two batch provers (test configuration, real proofs): batches
 * are built ahead and proven on both provers at once, checkpoints are signed strictly in
 * sequence order over contiguous log ranges, every receipt is covered, and an audit of the
 * whole service (every batch proof, the chain of roots, the log) passes; a prover that fails
 * one batch (another behind it already proven) delays only the signing, never the order.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.ts';
import { OrgClient, type Receipt } from '../../src/client/org-client.ts';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import { wrapProver, type Prover } from '../../src/prover/prover.ts';
import { localProvers } from '../../src/prover/supervised-prover.ts';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { DEV_KEYS } from '../helpers/keys.ts';
import { registerOrgs } from '../helpers/service.ts';

let dir: string;
let svc: RunningService;
const logs: Array<Record<string, unknown>> = [];
const orgs = [generateKeyPair(), generateKeyPair()];
const agents = Array.from({ length: 12 }, () => generateKeyPair());
// Per batch prover: proofs asked, and those asked and not yet answered; whether both ever had
// one at the same moment.
const asked = new Map<string, number>();
const open = new Map<string, number>();
let bothAtOnce = false;
// How many of the next batch proofs fail (after the prover has made them).
let failNext = 0;

function countingProvers(spec: Parameters<typeof localProvers>[0]): Prover {
  const inner = localProvers(spec);
  return wrapProver(inner, async (circuit, input) => {
    if (circuit !== 'batch-update') return inner.prove(circuit, input);
    asked.set(inner.name, (asked.get(inner.name) ?? 0) + 1);
    open.set(inner.name, (open.get(inner.name) ?? 0) + 1);
    if (open.size === 2 && [...open.values()].every((k) => k > 0)) bothAtOnce = true;
    try {
      const r = await inner.prove(circuit, input);
      if (failNext > 0) {
        failNext--;
        throw new Error('this prover failed (test)');
      }
      return r;
    } finally {
      open.set(inner.name, open.get(inner.name)! - 1);
    }
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-pipeline-'));
  svc = await startService(
    { ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ZKTRUST_BATCH_PROVERS: '2', ...DEV_KEYS }), port: 0, dataDir: join(dir, 'data'), adminToken: 't', batchMaxWaitMs: 50, receiptDeadlineMs: 600_000 },
    (e) => logs.push(e),
    { provers: countingProvers },
  );
  await registerOrgs(svc.url, 't', orgs);
}, 120_000);
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('pipelined proving with two batch provers', () => {
  it('proves on both at once, signs in order over contiguous ranges, covers every receipt; the audit passes', async () => {
    expect(svc.aggregator.proverStatus().filter((p) => p.name.startsWith('batch-update'))).toHaveLength(2);
    const receipts: Receipt[] = [];
    // Every agent from both organisations over three days: 72 records, many batches' worth.
    for (let day = 1; day <= 3; day++) {
      for (const [o, org] of orgs.entries()) {
        const client = new OrgClient(org.secretKey, svc.url, svc.aggregator.did);
        for (const [i, a] of agents.entries()) {
          receipts.push((await client.submit([{ agent: didFromPublicKey(a.publicKey), epoch: day, kept: 3 + ((i + o) % 5), broken: i % 2, violations: 0 }])).receipt);
        }
      }
      // One failed proof on the way (a later batch may already be proven behind it).
      if (day === 2) failNext = 1;
    }
    await svc.aggregator.drain(240_000);
    expect(asked.size).toBe(2);
    for (const n of asked.values()) expect(n).toBeGreaterThanOrEqual(2);
    expect(bothAtOnce).toBe(true);
    expect(logs.filter((l) => l.msg === 'batch proof failed; retrying')).toHaveLength(1);
    // Checkpoints 1..n in order, each starting where the previous ended.
    const n = svc.aggregator.latestCheckpoint()!.body.sequence;
    let end = 0;
    for (let k = 1; k <= n; k++) {
      const b = await svc.aggregator.batch(k);
      expect(b.sequence).toBe(k);
      expect(b.fromIndex).toBe(end);
      expect(b.toIndex).toBeGreaterThan(b.fromIndex);
      end = b.toIndex;
    }
    expect(end).toBe(receipts.length);
    for (const r of receipts) expect(r.body.firstIndex + r.body.count).toBeLessThanOrEqual(end);
    const report = await audit(svc.url, { aggregator: svc.aggregator.did });
    expect(report.failures).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.provenEntries).toBe(receipts.length);
  }, 300_000);
});
