/**
 * The zktrust CLI end to end against a real server: keygen, org add, submit (with inclusion
 * checks), prove, verify (valid and invalid, with exit codes).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { ROOT } from '../helpers/circuit.ts';

const run = promisify(execFile);
let dir: string;
let svc: RunningService;

// Asynchronous on purpose: the server runs in this process.
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ZKTRUST_URL: svc.url } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-cli-'));
  svc = await startService({ ...loadConfig({ ZKTRUST_CIRCUITS: 'test' }), port: 0, dataDir: join(dir, 'data'), adminToken: 'cli-token', batchMaxWaitMs: 100 }, () => {});
}, 60_000);
afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('zktrust CLI', () => {
  it('keygen, org add, submit, prove, verify', async () => {
    const orgKey = await cli('keygen');
    const agentKey = await cli('keygen');
    expect(orgKey.code).toBe(0);
    await writeFile(join(dir, 'org.json'), orgKey.stdout);
    await writeFile(join(dir, 'agent.json'), agentKey.stdout);
    const org = JSON.parse(orgKey.stdout);
    const agent = JSON.parse(agentKey.stdout);

    const added = await cli('org', 'add', '--name', 'Acme', '--public-key', org.publicKey, '--token', 'cli-token');
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ did: org.did, index: 0 });
    expect((await cli('org', 'add', '--name', 'Acme', '--public-key', org.publicKey, '--token', 'wrong')).code).toBe(1);

    await writeFile(join(dir, 'records.jsonl'), [1, 2, 3].map((e) => JSON.stringify({ agent: agent.did, epoch: e, kept: 12, broken: 1, violations: 0 })).join('\n') + '\n');
    const submitted = await cli('submit', join(dir, 'records.jsonl'), '--key-file', join(dir, 'org.json'), '--aggregator', svc.aggregator.did, '--check-inclusion', '--json');
    expect(submitted.code, submitted.stderr).toBe(0);
    expect(JSON.parse(submitted.stdout)).toMatchObject([{ firstIndex: 0, count: 3, included: true }]);
    await svc.aggregator.drain(60_000);

    const out = join(dir, 'presentation.json');
    const proved = await cli('prove', '--key-file', join(dir, 'agent.json'), '--min-score', '700', '--nonce', 'n1', '--audience', 'gw', '--out', out);
    expect(proved.code, proved.stderr).toBe(0);
    const ok = await cli('verify', out, '--aggregator', svc.aggregator.did, '--agent', agent.did, '--min-score', '700', '--nonce', 'n1', '--audience', 'gw');
    expect([ok.code, ok.stdout.trim()]).toEqual([0, 'valid: score >= 700 (trusted)']);
    const bad = await cli('verify', out, '--aggregator', svc.aggregator.did, '--agent', agent.did, '--min-score', '700', '--nonce', 'n2', '--audience', 'gw', '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, reason: 'context_mismatch' });
    const refused = await cli('prove', '--key-file', join(dir, 'agent.json'), '--min-score', '990', '--nonce', 'n1', '--audience', 'gw');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/predicate_false/);
  }, 180_000);
});
