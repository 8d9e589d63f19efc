/**
 * The README's per-user examples, run as written: the blocks marked
 * `<!-- readme-test: USER -->` (and `<!-- readme-test: USER, file NAME -->` for a file the
 * next blocks use) are extracted from README.md in order and pasted into one bash session
 * (`set -euo pipefail`) in a temporary directory inside the repository, against a real
 * aggregator with the test circuits, with only ZKTRUST_URL and ZKTRUST_ADMIN_TOKEN set as
 * the README says. Each user's output is checked; then the verifier's blocks are run once
 * more for another audience, which they must reject.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import { ROOT } from '../helpers/circuit.ts';
import { testLocalKeySetDir } from '../helpers/keys.ts';

interface Block {
  user: string;
  /** Written to this file instead of run. */
  file?: string;
  lang: string;
  code: string;
}

const USERS = ['organisation', 'agent', 'verifier', 'auditor', 'researcher'];
const MARK = '@@readme-block';

/** The marked blocks of a Markdown text, in order. */
function extractBlocks(markdown: string): Block[] {
  const re = /<!-- readme-test: ([a-z]+)(?:, file ([\w.-]+))? -->\n```(\w+)\n([\s\S]*?)```/g;
  return [...markdown.matchAll(re)].map((m) => ({ user: m[1]!, ...(m[2] ? { file: m[2] } : {}), lang: m[3]!, code: m[4]! }));
}

/** One bash script: each block after a marker line on stdout and stderr; files as quoted here-documents. */
function script(blocks: readonly Block[], tail = ''): string {
  const parts = blocks.map((b, i) => {
    const mark = `echo '${MARK} ${i} ${b.user}'; echo '${MARK} ${i} ${b.user}' >&2`;
    if (b.file) return `${mark}\ncat > '${b.file}' <<'README_FILE_END'\n${b.code}README_FILE_END`;
    return `${mark}\n${b.code}`;
  });
  return ['set -euo pipefail', ...parts, tail].join('\n') + '\n';
}

/** Output per block index, split at the marker lines. */
function byBlock(text: string): Map<number, string> {
  const out = new Map<number, string>();
  let current = -1;
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${MARK} (\\d+) `).exec(line);
    if (m) current = Number(m[1]);
    else out.set(current, (out.get(current) ?? '') + line + '\n');
  }
  return out;
}

function bash(source: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', source], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dir: string;
let svc: RunningService;
let blocks: Block[];

beforeAll(async () => {
  blocks = extractBlocks(await readFile(join(ROOT, 'README.md'), 'utf8'));
  // Inside the repository, as the README says: `npx zktrust` and 'zktrust/verifier' resolve from there.
  dir = await mkdtemp(join(ROOT, 'build', 'readme-'));
  svc = await startService({ ...loadConfig({ ZKTRUST_CIRCUITS: 'test', ZKTRUST_KEY_SET: testLocalKeySetDir() }), port: 0, dataDir: join(dir, 'data'), adminToken: 'readme-token', batchMaxWaitMs: 200 }, () => {});
}, 60_000);

afterAll(async () => {
  await svc?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('README examples', () => {
  it('has runnable blocks for every user, in the order of the README', () => {
    expect([...new Set(blocks.map((b) => b.user))]).toEqual(USERS);
    for (const b of blocks) if (!b.file) expect(b.lang, `${b.user} block`).toBe('sh');
    // No placeholders left for a reader to fill in.
    for (const b of blocks) expect(b.code).not.toMatch(/<[a-z ]+>|z6Mk\.\.\.|\.\.\./);
  });

  it('run as written, in one bash session, against a real aggregator', async () => {
    const verifierBlocks = blocks.filter((b) => b.user === 'verifier' && !b.file);
    // After the README: the same verifier blocks for another audience must fail (and the session must notice).
    const tail = [
      `echo '${MARK} ${blocks.length} tampered'; echo '${MARK} ${blocks.length} tampered' >&2`,
      'AUDIENCE=https://another.example',
      ...verifierBlocks.map((b) => `if ( ${b.code.trim()} ); then echo 'tampered: ACCEPTED'; else echo "tampered: rejected ($?)"; fi`),
    ].join('\n');
    const t0 = performance.now();
    const r = await bash(script(blocks, tail), dir, { ZKTRUST_URL: svc.url, ZKTRUST_ADMIN_TOKEN: 'readme-token' });
    const seconds = (performance.now() - t0) / 1000;
    const out = byBlock(r.stdout);
    const err = byBlock(r.stderr);
    const failedAt = Math.max(...out.keys());
    expect(r.code, `bash exited ${r.code} in block ${failedAt} (${blocks[failedAt]?.user ?? 'tampered'}):\n${err.get(failedAt) ?? r.stderr}`).toBe(0);
    const of = (user: string) => blocks.flatMap((b, i) => (b.user === user ? [`${out.get(i) ?? ''}${err.get(i) ?? ''}`] : [])).join('');

    // Organisation: registered, submitted with inclusion verified, and waited for the proven batch.
    expect(of('organisation')).toContain('"name": "Acme"');
    expect(of('organisation')).toContain('"name": "Globex"');
    expect(of('organisation')).toMatch(/submitted 3 records \(log entries 0\.\.2, 1 signed receipt\), inclusion verified/);
    expect(of('organisation')).toMatch(/submitted 3 records \(log entries 3\.\.5, 1 signed receipt\), inclusion verified/);
    expect(of('organisation')).toMatch(/proven: every record is in a proven batch \(checkpoint \d+, log size 6\)/);
    expect(svc.aggregator.latestCheckpoint()?.body.logSize).toBe(6);
    // Agent: a presentation file, bound to the verifier's context.
    expect(of('agent')).toContain('presentation written to presentation.json');
    const presentation = JSON.parse(await readFile(join(dir, 'tmp', 'try', 'presentation.json'), 'utf8'));
    expect(presentation).toHaveProperty('proof');
    // Verifier: the CLI and the TypeScript example both accept it.
    expect(of('verifier')).toContain('valid: score >= 700 (trusted) [local keys: the aggregator operator could forge]\n');
    expect(of('verifier')).toContain('true ok trusted 700 local\n');
    expect(existsSync(join(dir, 'tmp', 'try', 'verify.ts'))).toBe(true);
    // Auditor.
    expect(of('auditor')).toMatch(/2 organisations, 6 entries in 2 submissions, \d+ batches proving 6 entries\nkey set [0-9a-f]{16}\.\.\. \(local\) from checkpoint 1: its operator could forge proofs \(local keys\)\naudit passed\n/);
    // Researcher.
    expect(of('researcher')).toMatch(/test\/batch-update: \d+ constraints, development keys \(INSECURE\)/);
    // The same verifier blocks, another audience: rejected, each with exit code 1.
    const tampered = out.get(blocks.length) ?? '';
    expect(tampered.match(/tampered: .*/g)).toEqual(verifierBlocks.map(() => 'tampered: rejected (1)'));
    expect(tampered).toContain('invalid: context_mismatch');
    console.log(`README blocks: ${blocks.length}, run in ${seconds.toFixed(1)} s`);
  }, 300_000);
});
