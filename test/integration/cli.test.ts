/**
 * The zktrust CLI end to end against a real server: info, keygen, org add (token from a flag
 * or the data directory), submit (with inclusion checks, waiting for the proven batch), prove,
 * verify (valid and invalid), and its errors: one line, exit code 2 for usage errors and 1
 * for failures.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { ROOT } from '../helpers/circuit.ts';
import { testLocalKeySetDir } from '../helpers/keys.ts';

const run = promisify(execFile);
let dir: string;
let svc: RunningService;

// Asynchronous on purpose: the server runs in this process.
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliWith({}, ...args);
}

async function cliWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ZKTRUST_URL: svc.url, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-cli-'));
  svc = await startService({ ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ZKTRUST_KEY_SET: testLocalKeySetDir() }), port: 0, dataDir: join(dir, 'data'), adminToken: 'cli-token', batchMaxWaitMs: 100, receiptDeadlineMs: 86_400_000 }, () => {});
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
    // With --json: results only on stdout, no progress on stderr.
    expect(submitted.stderr).toBe('');
    // --wait returns once a checkpoint signed by the aggregator covers the entries.
    // The next days' records (a record per agent, organisation and epoch: the same file again would be refused).
    await writeFile(join(dir, 'records-2.jsonl'), [4, 5, 6].map((e) => JSON.stringify({ agent: agent.did, epoch: e, kept: 12, broken: 1, violations: 0 })).join('\n') + '\n');
    const again = await cli('submit', join(dir, 'records.jsonl'), '--key-file', join(dir, 'org.json'), '--aggregator', svc.aggregator.did);
    expect(again.code).toBe(1);
    // Epoch 1 was accepted, but the organisation's last epoch for the agent is now 3.
    expect(again.stderr).toMatch(/zktrust: stale_epoch: records\[0\]: epoch 1 is not after this organisation's last epoch 3 for this agent/);
    const waited = await cli('submit', join(dir, 'records-2.jsonl'), '--key-file', join(dir, 'org.json'), '--aggregator', svc.aggregator.did, '--wait');
    expect(waited.code, waited.stderr).toBe(0);
    expect(waited.stdout).toBe('');
    expect(waited.stderr).toMatch(/^submitted 3 records \(log entries 3\.\.5, 1 signed receipt\) in [\d.]+ s\n/);
    expect(waited.stderr).toMatch(/proven: every record is in a proven batch \(checkpoint \d+, log size 6\)/);
    expect(svc.aggregator.latestCheckpoint()!.body.logSize).toBeGreaterThanOrEqual(6);

    const out = join(dir, 'presentation.json');
    // One organisation's six records (72 of 78 trials) count as 7.38 of 8 trials: one
    // organisation alone cannot make an agent trusted (policy v2), it can make it standard.
    const proved = await cli('prove', '--key-file', join(dir, 'agent.json'), '--min-score', '500', '--nonce', 'n1', '--audience', 'gw', '--out', out);
    expect(proved.code, proved.stderr).toBe(0);
    const ok = await cli('verify', out, '--aggregator', svc.aggregator.did, '--agent', agent.did, '--min-score', '500', '--nonce', 'n1', '--audience', 'gw');
    expect([ok.code, ok.stdout.trim()]).toEqual([0, 'valid: score >= 500 (standard) [local keys: the aggregator operator could forge]']);
    const bad = await cli('verify', out, '--aggregator', svc.aggregator.did, '--agent', agent.did, '--min-score', '500', '--nonce', 'n2', '--audience', 'gw', '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, reason: 'context_mismatch' });
    const refused = await cli('prove', '--key-file', join(dir, 'agent.json'), '--min-score', '700', '--nonce', 'n1', '--audience', 'gw');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/predicate_false/);
  }, 180_000);

  it('submit in bulk: commitments from the native Poseidon are accepted, in chunks of 1,000', async () => {
    const org = JSON.parse((await cli('keygen')).stdout);
    const agent = JSON.parse((await cli('keygen')).stdout);
    await writeFile(join(dir, 'bulk-org.json'), JSON.stringify(org));
    expect((await cli('org', 'add', '--name', 'Bulk', '--public-key', org.publicKey, '--token', 'cli-token')).code).toBe(0);
    const lines = Array.from({ length: 1150 }, (_, i) => JSON.stringify({ agent: agent.did, epoch: 1 + i, kept: i % 5, broken: i % 2, violations: 0, scope: i % 3 }));
    await writeFile(join(dir, 'bulk.jsonl'), lines.join('\n') + '\n');
    const r = await cli('submit', join(dir, 'bulk.jsonl'), '--key-file', join(dir, 'bulk-org.json'), '--aggregator', svc.aggregator.did, '--json');
    expect(r.code, r.stderr).toBe(0);
    const receipts = JSON.parse(r.stdout);
    expect(receipts.map((x: { count: number }) => x.count)).toEqual([1000, 150]);
  }, 120_000);

  it('contract: the Solidity gate of the key set in force, only from a key document the pinned aggregator signed', async () => {
    const { solidityGate } = await import('../../src/onchain/gate.ts');
    const { document } = (await (await fetch(`${svc.url}/v1/keys`)).json()) as { document: { body: { descriptor: never; verificationKeys: { threshold: unknown } } } };
    const out = join(dir, 'Gate.sol');
    const made = await cli('contract', '--aggregator', svc.aggregator.did, '--name', 'AcmeGate', '--out', out);
    expect(made.code, made.stderr).toBe(0);
    expect(made.stderr).toContain(`AcmeGate written to ${out}`);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(out, 'utf8')).toBe(solidityGate(document.body.verificationKeys.threshold, document.body.descriptor, { contractName: 'AcmeGate' }));
    expect(await readFile(out, 'utf8')).toMatch(/contract AcmeGate\b/);
    // Another aggregator's did:key: the document is not its, nothing is written.
    const other = JSON.parse((await cli('keygen')).stdout) as { did: string };
    const refused = await cli('contract', '--aggregator', other.did);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/key document/);
    expect((await cli('contract', '--aggregator', svc.aggregator.did, '--key-set', 'ABC')).code).toBe(2);
  });

  it('info: what the aggregator says about itself, whole or one field', async () => {
    const did = await cli('info', 'aggregator');
    expect([did.code, did.stdout]).toEqual([0, `${svc.aggregator.did}\n`]);
    const json = await cli('info', '--json');
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'ok', aggregator: svc.aggregator.did, config: 'test' });
    const unknown = await cli('info', 'colour');
    expect([unknown.code, unknown.stderr]).toEqual([2, 'zktrust: unknown field colour; the aggregator reports status, phase, aggregator, keyMode, keySetHash, pending, checkpoint, config, uptimeS\n']);
  });

  it('org add finds the admin token in the data directory when no flag or variable gives it', async () => {
    const { publicKey } = JSON.parse((await cli('keygen')).stdout);
    await mkdir(join(dir, 'tokens'), { recursive: true });
    await writeFile(join(dir, 'tokens', 'admin.token'), 'cli-token\n');
    const env = { ZKTRUST_ADMIN_TOKEN: '', ZKTRUST_DATA_DIR: join(dir, 'tokens') };
    const added = await cliWith(env, 'org', 'add', '--name', 'Beta', '--public-key', publicKey);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'Beta' });
    const none = await cliWith({ ...env, ZKTRUST_DATA_DIR: join(dir, 'nowhere') }, 'org', 'add', '--name', 'Gamma', '--public-key', publicKey);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^zktrust: an admin token is required: --token, ZKTRUST_ADMIN_TOKEN, or .*nowhere\/admin\.token/);
  });

  it('usage errors exit with 2, failures with 1, each with one clear line and no stack trace', async () => {
    const did = svc.aggregator.did;
    // A port nobody listens on: one the system just gave out and took back.
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const closed = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const cases: Array<[args: string[], code: number, firstLine: RegExp]> = [
      [['bogus'], 2, /^zktrust: unknown command 'bogus'$/],
      [['verify', 'p.json'], 2, /^zktrust: required option '--aggregator <did>' not specified$/],
      [['verify', 'p.json', '--aggregator', did, '--agent', did, '--min-score', 'high', '--nonce', 'n', '--audience', 'a'], 2, /^zktrust: option '--min-score <n>' argument 'high' is invalid\. must be a non-negative integer\.$/],
      [['submit', 'records.jsonl', '--aggregator', did], 2, /^zktrust: a 32-byte secret key is required/],
      [['prove', '--key-file', join(dir, 'no-key.json'), '--min-score', '500', '--nonce', 'n', '--audience', 'a'], 1, /^zktrust: .*no-key\.json: no such file or directory$/],
      [['prove', '--key-file', join(dir, 'no-key.json'), '--min-score', '1', '--nonce', 'n', '--audience', 'a'], 2, /^zktrust: --min-score 1 is not a tier boundary \(0, 300, 500, 700, 900\); add --any-threshold to prove it anyway$/],
      [['audit', '--previous-head', 'yesterday'], 2, /^zktrust: --previous-head must be <size>:<64 hex digits>$/],
      [['org', 'add', '--name', 'X', '--token', 't'], 2, /^zktrust: org add needs --public-key <hex> or --did <did:key>$/],
      [['submit', join(dir, 'missing.jsonl'), '--key', '11'.repeat(32), '--aggregator', did], 1, /^zktrust: .*missing\.jsonl: no such file or directory$/],
      [['org', 'add', '--name', 'X', '--did', 'did:key:zBad', '--token', 'wrong'], 1, /^zktrust: unauthorized: a valid admin token is required$/],
      [['info', '--url', `http://127.0.0.1:${closed}`], 1, new RegExp(`^zktrust: cannot reach the aggregator \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${closed}\\); check --url or ZKTRUST_URL$`)],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(...args)));
    for (const [i, [args, code, firstLine]] of cases.entries()) {
      const r = results[i]!;
      expect([args.join(' '), r.code, r.stderr.split('\n')[0]]).toEqual([args.join(' '), code, expect.stringMatching(firstLine)]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stdout).toBe('');
    }
    const help = await cli('submit', '--help');
    expect([help.code, help.stdout]).toEqual([0, expect.stringContaining('--wait')]);
  }, 120_000);
});
