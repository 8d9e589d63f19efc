#!/usr/bin/env node
/**
 * The zktrust command line: serve, keygen, org add, submit, prove, verify, audit, setup, demo.
 * Exit codes: 0 success, 1 failure, 2 usage error.
 * @module
 */
import { Command } from 'commander';
import { generateKeyPair } from '../crypto/ed25519.ts';
import { didFromPublicKey } from '../crypto/identity.ts';
import { ensureArtifacts } from '../../scripts/lib/ensure-artifacts.ts';
import { loadConfig } from '../service/config.ts';
import { jsonLogger, startService } from '../service/server.ts';

const program = new Command();
program.name('zktrust').description('Cross-organisation trust scores for AI agents, proven in zero knowledge').showHelpAfterError();

program
  .command('serve')
  .description('run the aggregator on the embedded store (configuration: environment variables, see README)')
  .action(async () => {
    const config = loadConfig();
    // First start: build the configuration's circuits and development keys (about 100 s for production).
    await ensureArtifacts(config.circuits, { update: false, onProgress: (m) => jsonLogger({ msg: 'setup', detail: m }) });
    const svc = await startService(config);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      jsonLogger({ msg: 'shutting down', signal });
      await svc.close();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
    jsonLogger({ msg: 'admin token', file: process.env.ZKTRUST_ADMIN_TOKEN ? 'ZKTRUST_ADMIN_TOKEN' : `${config.dataDir}/admin.token` });
  });

program
  .command('keygen')
  .description('print a new Ed25519 key pair and its did:key (JSON)')
  .action(() => {
    const { secretKey, publicKey } = generateKeyPair();
    console.log(JSON.stringify({ did: didFromPublicKey(publicKey), publicKey: Buffer.from(publicKey).toString('hex'), secretKey: Buffer.from(secretKey).toString('hex') }, null, 2));
  });

const org = program.command('org').description('organisation registry (admin)');
org
  .command('add')
  .description('register an organisation with a running aggregator')
  .requiredOption('--name <name>', 'display name')
  .option('--public-key <hex>', 'Ed25519 public key, hex')
  .option('--did <did>', 'did:key of the organisation')
  .option('--url <url>', 'aggregator URL', process.env.ZKTRUST_URL ?? 'http://127.0.0.1:8080')
  .option('--token <token>', 'admin token (default: ZKTRUST_ADMIN_TOKEN)', process.env.ZKTRUST_ADMIN_TOKEN)
  .action(async (o: { name: string; publicKey?: string; did?: string; url: string; token?: string }) => {
    if (!o.token) throw new Error('an admin token is required (--token or ZKTRUST_ADMIN_TOKEN)');
    const res = await fetch(`${o.url}/v1/admin/orgs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${o.token}` },
      body: JSON.stringify({ name: o.name, ...(o.publicKey ? { publicKey: o.publicKey } : {}), ...(o.did ? { did: o.did } : {}) }),
    });
    const body = await res.json();
    console.log(JSON.stringify(body, null, 2));
    if (!res.ok) process.exitCode = 1;
  });

program
  .command('audit <url>')
  .description('re-check an aggregator from scratch: registry, org signatures, tree head, every batch proof and the chain from genesis')
  .option('--aggregator <did>', 'pin the aggregator key (did:key)')
  .option('--previous-head <size:root>', 'a tree head seen earlier, which the log must extend')
  .option('--json', 'print the report as JSON')
  .action(async (url: string, o: { aggregator?: string; previousHead?: string; json?: boolean }) => {
    const { audit } = await import('../audit/audit.ts');
    const m = o.previousHead ? /^(\d+):([0-9a-f]{64})$/.exec(o.previousHead) : undefined;
    if (o.previousHead && !m) throw new Error('--previous-head must be <size>:<64 hex digits>');
    const previousHead = m ? { size: Number(m[1]), root: m[2]! } : undefined;
    const report = await audit(url, { aggregator: o.aggregator, previousHead, onProgress: o.json ? undefined : (msg) => console.error(msg) });
    if (o.json) console.log(JSON.stringify(report, null, 2));
    else {
      console.log(`aggregator ${report.aggregator}: ${report.organisations} organisations, ${report.entries} entries in ${report.submissions} submissions, ${report.batches} batches proving ${report.provenEntries} entries`);
      for (const f of report.failures) console.log(`FAIL ${f}`);
      console.log(report.ok ? 'audit passed' : `audit failed: ${report.failures.length} problem(s)`);
    }
    // The verifier's curve keeps worker threads alive: exit explicitly.
    process.exit(report.ok ? 0 : 1);
  });

program
  .command('verify <presentation>')
  .description('verify a threshold presentation (JSON file) in-process, without a network')
  .requiredOption('--aggregator <did>', 'trusted aggregator did:key (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
  .requiredOption('--agent <did>', 'the agent the presentation must be about')
  .requiredOption('--min-score <n>', 'least score accepted', Number)
  .requiredOption('--nonce <nonce>', "the verifier's nonce")
  .requiredOption('--audience <audience>', "the verifier's audience")
  .option('--min-records <n>', 'least number of records', Number)
  .option('--min-orgs <n>', 'least number of distinct organisations', Number)
  .option('--max-age <seconds>', 'oldest checkpoint accepted', Number, 86_400)
  .option('--json', 'print the result as JSON')
  .action(async (file: string, o: { aggregator: string[]; agent: string; minScore: number; nonce: string; audience: string; minRecords?: number; minOrgs?: number; maxAge: number; json?: boolean }) => {
    const { readFile } = await import('node:fs/promises');
    const { createVerifier } = await import('../verifier/presentation.ts');
    const presentation = JSON.parse(await readFile(file, 'utf8'));
    const result = await createVerifier({ aggregatorKeys: o.aggregator }).verifyPresentation(presentation, {
      agent: o.agent, minScore: o.minScore, minRecords: o.minRecords, minOrgs: o.minOrgs, context: { nonce: o.nonce, audience: o.audience }, maxAgeS: o.maxAge,
    });
    console.log(o.json ? JSON.stringify(result, null, 2) : result.ok ? `valid: score >= ${result.provenMinScore} (${result.tier})` : `invalid: ${result.reason}`);
    process.exit(result.ok ? 0 : 1);
  });

/** A secret key from --key (hex) or --key-file (the JSON that `keygen` prints). */
async function secretKeyOf(o: { key?: string; keyFile?: string }): Promise<Uint8Array> {
  let hex = o.key;
  if (!hex && o.keyFile) {
    const { readFile } = await import('node:fs/promises');
    hex = (JSON.parse(await readFile(o.keyFile, 'utf8')) as { secretKey?: string }).secretKey;
  }
  if (!hex || !/^[0-9a-f]{64}$/.test(hex)) throw new Error('a 32-byte secret key is required (--key <hex> or --key-file <keygen JSON>)');
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

program
  .command('submit <records>')
  .description('sign and submit outcome records (JSON lines: {"agent","epoch","kept","broken","violations","scope"?}) as an organisation')
  .option('--key <hex>', "the organisation's secret key")
  .option('--key-file <file>', 'a key file made by keygen')
  .requiredOption('--aggregator <did>', 'the aggregator did:key that must sign receipts')
  .option('--url <url>', 'aggregator URL', process.env.ZKTRUST_URL ?? 'http://127.0.0.1:8080')
  .option('--check-inclusion', 'check every entry against a signed tree head')
  .option('--json', 'print receipts as JSON')
  .action(async (file: string, o: { key?: string; keyFile?: string; aggregator: string; url: string; checkInclusion?: boolean; json?: boolean }) => {
    const { readFile } = await import('node:fs/promises');
    const { OrgClient } = await import('../client/org-client.ts');
    const lines = (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim() !== '');
    const records = lines.map((l, i) => {
      try {
        return JSON.parse(l);
      } catch {
        throw new Error(`${file}:${i + 1}: not valid JSON`);
      }
    });
    const client = new OrgClient(await secretKeyOf(o), o.url, o.aggregator);
    const receipts = [];
    for (let i = 0; i < records.length; i += 1000) {
      const sub = await client.submit(records.slice(i, i + 1000));
      const included = o.checkInclusion ? await client.checkInclusion(sub) : undefined;
      receipts.push({ ...sub.receipt.body, included });
      if (!o.json) console.error(`submitted ${Math.min(records.length, i + 1000)}/${records.length} records (entries ${sub.receipt.body.firstIndex}..${sub.receipt.body.firstIndex + sub.receipt.body.count - 1})${included === undefined ? '' : included ? ', inclusion verified' : ', INCLUSION FAILED'}`);
      if (included === false) process.exitCode = 1;
    }
    if (o.json) console.log(JSON.stringify(receipts, null, 2));
  });

program
  .command('prove')
  .description("as an agent, obtain a threshold presentation for a verifier's context")
  .option('--key <hex>', "the agent's secret key")
  .option('--key-file <file>', 'a key file made by keygen')
  .requiredOption('--min-score <n>', 'the score to prove at least', Number)
  .option('--min-records <n>', 'records to prove at least', Number, 0)
  .option('--min-orgs <n>', 'distinct organisations to prove at least', Number, 0)
  .requiredOption('--nonce <nonce>', "the verifier's nonce")
  .requiredOption('--audience <audience>', "the verifier's audience")
  .option('--expires-in <seconds>', 'validity of the presentation', Number, 600)
  .option('--url <url>', 'aggregator URL', process.env.ZKTRUST_URL ?? 'http://127.0.0.1:8080')
  .option('--out <file>', 'write the presentation here instead of stdout')
  .action(async (o: { key?: string; keyFile?: string; minScore: number; minRecords: number; minOrgs: number; nonce: string; audience: string; expiresIn: number; url: string; out?: string }) => {
    const { AgentClient } = await import('../client/agent-client.ts');
    const client = new AgentClient(await secretKeyOf(o), o.url);
    const presentation = await client.present({
      minScore: o.minScore, minRecords: o.minRecords, minOrgs: o.minOrgs,
      context: { nonce: o.nonce, audience: o.audience, expiry: Math.floor(Date.now() / 1000) + o.expiresIn },
    });
    const text = JSON.stringify(presentation, null, 2);
    if (o.out) await (await import('node:fs/promises')).writeFile(o.out, text + '\n');
    else console.log(text);
  });

program
  .command('setup')
  .description('build circuits and development keys for a configuration (see docs/keys.md for the ceremony)')
  .option('--config <name>', 'test or production', 'production')
  .action(async (o: { config: string }) => {
    await ensureArtifacts(o.config, { update: true, onProgress: (m) => console.error(m) });
  });

program
  .command('demo')
  .description('run the end-to-end demonstration (3 organisations, 20 agents)')
  .action(async () => {
    await import('../../scripts/demo.ts');
  });

program.parseAsync().catch((e: Error & { code?: string }) => {
  console.error(`zktrust: ${e.code ? `${e.code}: ` : ''}${e.message}`);
  process.exit(1);
});
