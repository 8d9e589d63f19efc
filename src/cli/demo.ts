/**
 * `npm run demo` (and `zktrust demo`): the whole flow on one machine. Starts an aggregator (test circuits by
 * default, `-- --config production` for the real sizes), registers 3 organisations, submits
 * records for 20 agents with varied behaviour, waits for the proven batches, has each agent
 * request a presentation at the highest tier it can prove, verifies every presentation
 * in-process and prints a table.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentClient } from '../client/agent-client.ts';
import { ClientError, OrgClient } from '../client/org-client.ts';
import { generateKeyPair } from '../crypto/ed25519.ts';
import { didFromPublicKey } from '../crypto/identity.ts';
import { TIERS } from '../crypto/score-policy.ts';
import { loadConfig } from '../service/config.ts';
import { startService } from '../service/server.ts';
import { createVerifier } from '../verifier/presentation.ts';

const args = process.argv.slice(2);
const configName = args.includes('--config') ? args[args.indexOf('--config') + 1]! : 'test';
const t0 = performance.now();
const say = (m: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${m}`);

// Behaviour profiles: promises kept and broken per report, and violations.
const PROFILES = [
  { name: 'reliable', kept: 40, broken: 0, violations: 0 },
  { name: 'mostly reliable', kept: 30, broken: 2, violations: 0 },
  { name: 'new', kept: 2, broken: 0, violations: 0 },
  { name: 'flaky', kept: 10, broken: 8, violations: 0 },
  { name: 'violator', kept: 25, broken: 1, violations: 4 },
];

const dir = await mkdtemp(join(tmpdir(), 'zktrust-demo-'));
// The demo proves with the public-seed development keys (an explicit opt-in: anyone could
// forge under them), so that it starts in seconds; a real service makes its own keys.
const svc = await startService({ ...loadConfig({ ZKTRUST_CIRCUITS: configName, ZKTRUST_INSECURE_DEV_KEYS: '1' }), port: 0, dataDir: join(dir, 'data'), batchMaxWaitMs: 300 }, () => {});
try {
  say(`aggregator ${svc.aggregator.did} on ${svc.url} (${configName} circuits)`);
  say('INSECURE development keys (a demo): anyone can forge proofs under them; verifiers refuse them unless told otherwise');
  const orgKeys = Array.from({ length: 3 }, () => generateKeyPair());
  for (const [i, o] of orgKeys.entries()) {
    const r = await fetch(`${svc.url}/v1/admin/orgs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${svc.adminToken}` }, body: JSON.stringify({ name: `Org ${String.fromCharCode(65 + i)}`, publicKey: Buffer.from(o.publicKey).toString('hex') }) });
    if (r.status !== 201) throw new Error(`registration failed: ${await r.text()}`);
  }
  const orgs = orgKeys.map((k) => new OrgClient(k.secretKey, svc.url, svc.aggregator.did));
  say('registered 3 organisations');

  const agents = Array.from({ length: 20 }, (_, i) => ({ key: generateKeyPair(), profile: PROFILES[i % PROFILES.length]!, records: 0, orgs: new Set<number>() }));
  // Each organisation reports (a pre-aggregated tally per epoch) on the agents it dealt with.
  for (const [o, org] of orgs.entries()) {
    const mine = agents.filter((_, i) => (i + o) % 3 !== 2 || agents[i]!.profile.name === 'reliable');
    const records = mine.map((a) => {
      a.records++;
      a.orgs.add(o);
      return { agent: didFromPublicKey(a.key.publicKey), epoch: 20_400, kept: a.profile.kept, broken: a.profile.broken, violations: a.profile.violations };
    });
    const sub = await org.submit(records);
    if (!(await org.checkInclusion(sub))) throw new Error('inclusion check failed');
    say(`${org.did.slice(0, 20)}...: ${records.length} records, receipt for entries ${sub.receipt.body.firstIndex}..${sub.receipt.body.firstIndex + sub.receipt.body.count - 1}, inclusion verified`);
  }
  say('waiting for proven batches...');
  await svc.aggregator.drain(3_600_000);
  say(`checkpoint ${svc.aggregator.latestCheckpoint()!.body.sequence}: every record is in a proven batch`);

  const verifier = createVerifier({ aggregatorKeys: [svc.aggregator.did], allowInsecureKeys: true });
  const rows: string[][] = [];
  for (const a of agents) {
    const client = new AgentClient(a.key.secretKey, svc.url);
    const context = { nonce: Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('hex'), audience: 'https://gateway.example', expiry: Math.floor(Date.now() / 1000) + 600 };
    let row = [client.did.slice(8, 24) + '...', a.profile.name, String(a.records), String(a.orgs.size), '-', 'none', '-'];
    // Ask for the highest tier first; a refusal costs no proof.
    for (const t of TIERS) {
      try {
        const presentation = await client.present({ minScore: Number(t.min), minRecords: a.records, minOrgs: a.orgs.size, context });
        const tv = performance.now();
        const r = await verifier.verifyPresentation(presentation, { agent: client.did, minScore: Number(t.min), minRecords: a.records, minOrgs: a.orgs.size, context, maxAgeS: 3600 });
        const ms = performance.now() - tv;
        row = [row[0]!, row[1]!, row[2]!, row[3]!, `>= ${t.min}`, r.ok ? r.tier! : `REJECTED (${r.reason})`, ms.toFixed(1)];
        break;
      } catch (e) {
        if (!(e instanceof ClientError && e.code === 'predicate_false')) throw e;
      }
    }
    rows.push(row);
  }
  const head = ['agent', 'behaviour', 'records', 'orgs', 'threshold proven', 'tier', 'verify ms'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log('\n' + fmt(head) + '\n' + widths.map((w) => '-'.repeat(w)).join('  ') + '\n' + rows.map(fmt).join('\n') + '\n');
  say('done: every presentation verified in-process; no interaction and no exact score left the aggregator');
} finally {
  await svc.close();
  await rm(dir, { recursive: true, force: true });
}
process.exit(0);
