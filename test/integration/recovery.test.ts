/**
 * Restart recovery with state snapshots (a real server, LevelDB and proofs): a graceful
 * shutdown snapshots the proven state and the next start restores it without replaying a
 * record; proving and presentations go on from the restored state; a corrupted snapshot is
 * skipped for an older one or the log from genesis, with the same signed root.
 */
import { readdir, readFile, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentClient } from '../../src/client/agent-client.ts';
import { OrgClient } from '../../src/client/org-client.ts';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { createVerifier } from '../../src/verifier/presentation.ts';
import { registerOrgs } from '../helpers/service.ts';
import { DEV_KEYS } from '../helpers/keys.ts';

let dir: string;
let svc: RunningService;
let logs: Record<string, unknown>[] = [];
const org = generateKeyPair();
const agents = Array.from({ length: 5 }, () => generateKeyPair());
const dids = agents.map((a) => didFromPublicKey(a.publicKey));

async function start(snapshotEveryBatches = 2): Promise<RunningService> {
  logs = [];
  svc = await startService({ ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ...DEV_KEYS }), port: 0, dataDir: join(dir, 'data'), adminToken: 't', batchMaxWaitMs: 100, snapshotEveryBatches }, (e) => logs.push(e));
  return svc;
}
const recovered = () => logs.find((l) => l.msg === 'recovered') as { proven: number; checkpoint: number; fromSnapshot?: number; replayedRecords: number };
const latest = () => svc.aggregator.latestCheckpoint()!.body;
const snapshotFiles = async () => (await readdir(join(dir, 'data', 'snapshots'))).filter((n) => n.endsWith('.snap')).sort();

async function submitAndProve(round: number): Promise<void> {
  const client = new OrgClient(org.secretKey, svc.url, svc.aggregator.did);
  await client.submit(dids.map((agent, i) => ({ agent, epoch: round, kept: 5 + i, broken: i % 2, violations: 0 })));
  await svc.aggregator.drain(120_000);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-recovery-'));
  await start();
  await registerOrgs(svc.url, 't', [org]);
}, 120_000);

afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('recovery from state snapshots', () => {
  it('snapshots while proving and at shutdown; a restart restores without replaying', async () => {
    await submitAndProve(1);
    await submitAndProve(2);
    const before = latest();
    expect(before.sequence).toBeGreaterThanOrEqual(3);
    await svc.close();
    const files = await snapshotFiles();
    expect(files.length).toBe(2); // the newest two are kept
    expect(files.at(-1)).toBe(`state-${String(before.sequence).padStart(16, '0')}.snap`);

    expect((await readdir(join(dir, 'data', 'snapshots'))).filter((n) => n.startsWith('ledger-'))).toContain(`ledger-${String(10).padStart(16, '0')}.bin`);

    await start();
    expect(recovered()).toMatchObject({ fromSnapshot: before.sequence, checkpoint: before.sequence, replayedRecords: 0, proven: 10 });
    expect(logs.filter((l) => l.msg === 'ledger snapshot skipped')).toEqual([]);
    expect(latest()).toEqual(before);
  }, 300_000);

  it('proves and presents from the restored state', async () => {
    await submitAndProve(3);
    expect(latest().logSize).toBe(15);
    const context = { nonce: 'after-restore', audience: 'gw', expiry: Math.floor(Date.now() / 1000) + 600 };
    const presentation = await new AgentClient(agents[4]!.secretKey, svc.url).present({ minScore: 500, context });
    const result = await createVerifier({ aggregatorKeys: [svc.aggregator.did], allowInsecureKeys: true }).verifyPresentation(presentation, { agent: dids[4]!, minScore: 500, context, maxAgeS: 600 });
    expect(result).toMatchObject({ ok: true, provenMinScore: 500, keyMode: 'dev' });
  }, 300_000);

  it('skips a corrupted snapshot for an older one, and replays the log from genesis without any', async () => {
    const before = latest();
    await svc.close();
    const files = await snapshotFiles();
    const newest = join(dir, 'data', 'snapshots', files.at(-1)!);
    const bytes = await readFile(newest);
    bytes[100]! ^= 0xff;
    await writeFile(newest, bytes);

    await start();
    expect(logs.some((l) => l.msg === 'state snapshot skipped' && /checksum/.test(String(l.reason)))).toBe(true);
    const r = recovered();
    expect(r.fromSnapshot).toBeLessThan(before.sequence);
    expect(r.replayedRecords).toBeGreaterThan(0);
    expect(latest()).toEqual(before);

    await svc.close();
    await rm(join(dir, 'data', 'snapshots'), { recursive: true });
    // Without snapshots at all (and none written at this shutdown: the next start must replay).
    await start(0);
    expect(recovered()).toMatchObject({ replayedRecords: 15, proven: 15 });
    expect(recovered().fromSnapshot).toBeUndefined();
    expect(latest()).toEqual(before);
  }, 300_000);
});
