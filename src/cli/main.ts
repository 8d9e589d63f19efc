#!/usr/bin/env node
/**
 * The zktrust command line: serve, worker, info, keygen, org add, submit, prove, verify, contract,
 * audit, ceremony, build, setup, demo.
 * Results go to stdout (JSON with --json); progress and errors to stderr, progress bars only
 * when stderr is a terminal and never with --json.
 * Exit codes: 0 success, 1 failure, 2 usage error.
 * @module
 */
import { join } from 'node:path';
import { Command } from 'commander';
import { ensureArtifacts } from '../build/ensure-artifacts.ts';
import { generateKeyPair } from '../crypto/ed25519.ts';
import { didFromPublicKey } from '../crypto/identity.ts';
import { loadConfig } from '../service/config.ts';
import { jsonLogger, startService } from '../service/server.ts';
import { PACKAGE_VERSION } from '../package-root.ts';
import { describeError, UsageError } from './errors.ts';
import { DEFAULT_URL, adminToken, integer, secretKeyOf } from './options.ts';
import { Progress, withSpinner } from './progress.ts';
import type { SubmitOptions } from './submit-command.ts';

const program = new Command();
// Inherited by every subcommand defined below: usage errors throw (exit 2 in the handler at the end).
program
  .name('zktrust')
  .description('Cross-organisation trust scores for AI agents, proven in zero knowledge')
  .version(PACKAGE_VERSION, '-V, --version', "print zktrust's version")
  .exitOverride()
  .showHelpAfterError('(add --help for usage)')
  .configureOutput({ outputError: (str, write) => write(`zktrust: ${str.replace(/^error: /, '')}`) });

program
  .command('serve')
  .description('run the aggregator on the embedded store (configuration: environment variables, see README)')
  .action(async () => {
    const config = loadConfig();
    // The server listens at once; on a first start it then compiles the configuration's
    // circuits (about a minute for production; development keys only when asked for) and
    // makes its keys, which /v1/ready reports.
    const svc = await startService(config, undefined, {
      prepare: async (step) => {
        await ensureArtifacts(config.circuits, { update: false, devKeys: config.insecureDevKeys, onProgress: (m) => (step(`preparing the circuits: ${m}`), jsonLogger({ level: 'info', msg: 'setup', detail: m })) });
      },
    });
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
  .command('worker')
  .description('prove jobs from the Redis queue of an aggregator run with ZKTRUST_REDIS_URL (any number, any machine; README, "Proving on workers")')
  .option('--redis <url>', 'Redis URL (default: ZKTRUST_REDIS_URL)', process.env.ZKTRUST_REDIS_URL)
  .option('--url <url>', 'the aggregator, for its key sets (default: ZKTRUST_URL or http://127.0.0.1:8080)', DEFAULT_URL)
  .option('--circuits <name>', 'circuit configuration (default: ZKTRUST_CIRCUITS or production)', process.env.ZKTRUST_CIRCUITS || 'production')
  .option('--cache <dir>', 'where fetched key sets are kept (default: <ZKTRUST_DATA_DIR or ./data>/worker-keys)')
  .option('--concurrency <n>', 'jobs at once (default 1)', integer, 1)
  .action(async (o: { redis?: string; url: string; circuits: string; cache?: string; concurrency: number }) => {
    if (!o.redis) throw new UsageError('a Redis URL is required: --redis or ZKTRUST_REDIS_URL');
    const { ProofWorker } = await import('../prover/worker.ts');
    await ensureArtifacts(o.circuits, { update: false, devKeys: false, onProgress: (m) => jsonLogger({ level: 'info', msg: 'setup', detail: m }) });
    const lock = process.env.ZKTRUST_WORKER_LOCK_MS;
    const worker = await ProofWorker.start({
      redisUrl: o.redis, aggregatorUrl: o.url, config: o.circuits, concurrency: Math.max(1, o.concurrency), prefix: process.env.ZKTRUST_REDIS_PREFIX || undefined,
      cacheDir: o.cache ?? join(process.env.ZKTRUST_DATA_DIR || './data', 'worker-keys'),
      ...(lock ? { lockDurationMs: integer(lock) } : {}),
      log: jsonLogger,
    });
    const stop = (signal: string) => {
      jsonLogger({ msg: 'worker stopping; finishing the job in hand', signal });
      void worker.close().then(() => process.exit(0));
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });

program
  .command('info [field]')
  .description("what a running aggregator says about itself (GET /v1/health); with a field name (e.g. aggregator), print only that value")
  .option('--url <url>', 'aggregator URL (default: ZKTRUST_URL or http://127.0.0.1:8080)', DEFAULT_URL)
  .option('--json', 'print the whole answer as JSON')
  .action(async (field: string | undefined, o: { url: string; json?: boolean }) => {
    const res = await fetch(`${o.url.replace(/\/$/, '')}/v1/health`);
    if (!res.ok) throw new Error(`${o.url}/v1/health answered HTTP ${res.status}`);
    const health = (await res.json()) as Record<string, unknown>;
    if (field !== undefined) {
      if (!(field in health)) throw new UsageError(`unknown field ${field}; the aggregator reports ${Object.keys(health).join(', ')}`);
      console.log(typeof health[field] === 'string' ? health[field] : JSON.stringify(health[field]));
    } else if (o.json) console.log(JSON.stringify(health, null, 2));
    else for (const [k, v] of Object.entries(health)) console.log(`${k.padEnd(12)} ${v}`);
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
  .option('--url <url>', 'aggregator URL (default: ZKTRUST_URL or http://127.0.0.1:8080)', DEFAULT_URL)
  .option('--token <token>', 'admin token (default: ZKTRUST_ADMIN_TOKEN, else data/admin.token)')
  .action(async (o: { name: string; publicKey?: string; did?: string; url: string; token?: string }) => {
    if (!o.publicKey && !o.did) throw new UsageError('org add needs --public-key <hex> or --did <did:key>');
    const token = await adminToken(o.token);
    const res = await fetch(`${o.url}/v1/admin/orgs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: o.name, ...(o.publicKey ? { publicKey: o.publicKey } : {}), ...(o.did ? { did: o.did } : {}) }),
    });
    const body = (await res.json()) as { code?: string; detail?: string };
    if (!res.ok) throw Object.assign(new Error(body.detail ?? `HTTP ${res.status}`), { code: body.code ?? 'http_error' });
    console.log(JSON.stringify(body, null, 2));
  });

program
  .command('audit [url]')
  .description('re-check an aggregator from scratch: registry, org signatures, tree head, every batch proof and the chain from genesis')
  .option('--aggregator <did>', 'pin the aggregator key (did:key)')
  .option('--previous-head <size:root>', 'a tree head seen earlier, which the log must extend')
  .option('--ptau <file>', 'the powers-of-tau file of a ceremony: also run snarkjs zkey verify on its keys, from circuits built from this source')
  .option('--json', 'print the report as JSON')
  .action(async (url: string | undefined, o: { aggregator?: string; previousHead?: string; ptau?: string; json?: boolean }) => {
    const { auditCommand } = await import('./audit-command.ts');
    // The verifier's curve keeps worker threads alive: exit explicitly.
    process.exit(await auditCommand(url ?? DEFAULT_URL, o));
  });

program
  .command('verify <presentation>')
  .description('verify a threshold presentation (JSON file) in-process, without a network')
  .requiredOption('--aggregator <did>', 'trusted aggregator did:key (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
  .requiredOption('--agent <did>', 'the agent the presentation must be about')
  .requiredOption('--min-score <n>', 'least score accepted', integer)
  .requiredOption('--nonce <nonce>', "the verifier's nonce")
  .requiredOption('--audience <audience>', "the verifier's audience")
  .option('--min-records <n>', 'least number of records', integer)
  .option('--min-orgs <n>', 'least number of distinct organisations', integer)
  .option('--max-age <seconds>', 'oldest checkpoint accepted', integer, 86_400)
  .option('--require-ceremony', 'accept only keys from a ceremony with a published phase 1 (default: local or ceremony keys)')
  .option('--allow-insecure-keys', 'accept development keys, which anyone can forge proofs with (tests and demos only)')
  .option('--key-document <file>', "the aggregator's signed key document (GET /v1/keys, its document), repeatable", (v: string, acc: string[] = []) => [...acc, v])
  .option('--trusted-key-set <hash>', 'accept only these key sets (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
  .option('--trusted-ptau-hash <blake2b>', 'a phase-1 file to accept for ceremony keys besides the published ones (repeatable)', (v: string, acc: string[] = []) => [...acc, v])
  .option('--json', 'print the result as JSON')
  .action(async (file: string, o: { aggregator: string[]; agent: string; minScore: number; nonce: string; audience: string; minRecords?: number; minOrgs?: number; maxAge: number; requireCeremony?: boolean; allowInsecureKeys?: boolean; keyDocument?: string[]; trustedKeySet?: string[]; trustedPtauHash?: string[]; json?: boolean }) => {
    const { readFile } = await import('node:fs/promises');
    const { createVerifier } = await import('../verifier/presentation.ts');
    const readJson = async (path: string, what: string) => {
      try {
        return JSON.parse(await readFile(path, 'utf8')) as unknown;
      } catch (e) {
        throw new Error(`${path}: ${e instanceof SyntaxError ? `not ${what} (invalid JSON)` : (e as Error).message}`);
      }
    };
    const presentation = await readJson(file, 'a presentation');
    const keyDocuments = await Promise.all((o.keyDocument ?? []).map(async (f) => {
      const d = (await readJson(f, 'a key document')) as { document?: unknown };
      return d && typeof d === 'object' && 'document' in d ? d.document : d;
    }));
    let verifier;
    try {
      verifier = createVerifier({
        aggregatorKeys: o.aggregator,
        keyDocuments,
        allowInsecureKeys: o.allowInsecureKeys === true,
        ...(o.requireCeremony ? { requireKeyMode: 'ceremony' as const } : {}),
        ...(o.trustedKeySet ? { trustedKeySets: o.trustedKeySet } : {}),
        ...(o.trustedPtauHash ? { trustedPtauHashes: o.trustedPtauHash } : {}),
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const result = await verifier.verifyPresentation(presentation, {
      agent: o.agent, minScore: o.minScore, minRecords: o.minRecords, minOrgs: o.minOrgs, context: { nonce: o.nonce, audience: o.audience }, maxAgeS: o.maxAge,
    });
    const keys = result.keyMode ? ` [${result.keyMode} keys${result.keyMode === 'dev' ? ': INSECURE, anyone can forge' : result.keyMode === 'local' ? ': the aggregator operator could forge' : ''}]` : '';
    console.log(o.json ? JSON.stringify(result, null, 2) : result.ok ? `valid: score >= ${result.provenMinScore} (${result.tier})${keys}` : `invalid: ${result.reason}${keys}`);
    process.exit(result.ok ? 0 : 1);
  });

program
  .command('contract')
  .description("write the Solidity gate for an aggregator's key set: a Groth16 verifier of its threshold key and a register of the checkpoints a publisher account posts (README, \"On-chain verification\")")
  .requiredOption('--aggregator <did>', "the aggregator's did:key, pinned out of band: its key document must be signed by it")
  .option('--url <url>', 'aggregator URL (default: ZKTRUST_URL or http://127.0.0.1:8080)', DEFAULT_URL)
  .option('--key-set <hash>', 'another key set of this aggregator than the one in force (GET /v1/keys/{hash})')
  .option('--name <contract>', 'the contract name', 'ZktrustGate')
  .option('--allow-insecure-keys', 'generate it for development keys, which anyone can forge proofs with (tests and demos only)')
  .option('--out <file>', 'write the source there (default: stdout)')
  .action(async (o: { aggregator: string; url: string; keySet?: string; name: string; allowInsecureKeys?: boolean; out?: string }) => {
    const { createVerifier } = await import('../verifier/presentation.ts');
    const { solidityGate } = await import('../onchain/gate.ts');
    if (o.keySet !== undefined && !/^[0-9a-f]{64}$/.test(o.keySet)) throw new UsageError('--key-set is a key set hash: 64 lower-case hex digits');
    const path = o.keySet ? `/v1/keys/${o.keySet}` : '/v1/keys';
    const res = await fetch(`${o.url.replace(/\/$/, '')}${path}`);
    if (!res.ok) throw new Error(`${o.url}${path} answered HTTP ${res.status}`);
    const { document } = (await res.json()) as { document?: { body?: { descriptor?: unknown; verificationKeys?: { threshold?: unknown } } } };
    // The verifier refuses a key document its pinned aggregator did not sign.
    try {
      createVerifier({ aggregatorKeys: [o.aggregator], keyDocuments: [document], allowInsecureKeys: true });
    } catch (e) {
      throw new Error(`the key document of ${o.url}: ${(e as Error).message}`);
    }
    const body = document!.body!;
    const source = solidityGate(body.verificationKeys?.threshold, body.descriptor as never, { contractName: o.name, allowInsecureKeys: o.allowInsecureKeys === true });
    if (o.out) {
      await (await import('node:fs/promises')).writeFile(o.out, source);
      console.error(`${o.name} written to ${o.out}`);
    } else process.stdout.write(source);
  });

program
  .command('submit <records>')
  .description('sign and submit outcome records (JSON lines: {"agent","epoch","kept","broken","violations","scope"?}) as an organisation')
  .option('--key <hex>', "the organisation's secret key")
  .option('--key-file <file>', 'a key file made by keygen')
  .requiredOption('--aggregator <did>', 'the aggregator did:key that must sign receipts')
  .option('--url <url>', 'aggregator URL (default: ZKTRUST_URL or http://127.0.0.1:8080)', DEFAULT_URL)
  .option('--check-inclusion', 'check every entry against a signed tree head')
  .option('--wait', 'wait until every record is in a proven batch (a checkpoint signed by the aggregator)')
  .option('--timeout <seconds>', 'give up waiting after this long', integer, 600)
  .option('--json', 'print receipts as JSON (and the checkpoint with --wait)')
  .action(async (file: string, o: SubmitOptions) => {
    const { submitCommand } = await import('./submit-command.ts');
    process.exitCode = await submitCommand(file, o);
  });

program
  .command('prove')
  .description("as an agent, obtain a threshold presentation for a verifier's context")
  .option('--key <hex>', "the agent's secret key")
  .option('--key-file <file>', 'a key file made by keygen')
  .requiredOption('--min-score <n>', 'the score to prove at least', integer)
  .option('--min-records <n>', 'records to prove at least', integer, 0)
  .option('--min-orgs <n>', 'distinct organisations to prove at least', integer, 0)
  .requiredOption('--nonce <nonce>', "the verifier's nonce")
  .requiredOption('--audience <audience>', "the verifier's audience")
  .option('--expires-in <seconds>', 'validity of the presentation', integer, 600)
  .option('--any-threshold', 'prove a threshold other than a tier boundary (0, 300, 500, 700, 900): it tells the verifier more than a tier')
  .option('--url <url>', 'aggregator URL (default: ZKTRUST_URL or http://127.0.0.1:8080)', DEFAULT_URL)
  .option('--out <file>', 'write the presentation here instead of stdout')
  .action(async (o: { key?: string; keyFile?: string; minScore: number; minRecords: number; minOrgs: number; nonce: string; audience: string; expiresIn: number; anyThreshold?: boolean; url: string; out?: string }) => {
    const { AgentClient, TIER_THRESHOLDS } = await import('../client/agent-client.ts');
    if (!o.anyThreshold && !TIER_THRESHOLDS.includes(o.minScore)) throw new UsageError(`--min-score ${o.minScore} is not a tier boundary (${[...TIER_THRESHOLDS].sort((a, b) => a - b).join(', ')}); add --any-threshold to prove it anyway`);
    const client = new AgentClient(await secretKeyOf(o), o.url, { policy: o.anyThreshold ? 'any' : 'tiers' });
    const ask = {
      minScore: o.minScore, minRecords: o.minRecords, minOrgs: o.minOrgs,
      context: { nonce: o.nonce, audience: o.audience, expiry: Math.floor(Date.now() / 1000) + o.expiresIn },
    };
    // The aggregator proves while we wait: a spinner on a terminal, one line otherwise.
    const presentation = await withSpinner(`proving score >= ${o.minScore}`, () => client.present(ask), {});
    const text = JSON.stringify(presentation, null, 2);
    if (o.out) {
      await (await import('node:fs/promises')).writeFile(o.out, text + '\n');
      console.error(`presentation written to ${o.out}`);
    } else console.log(text);
  });

const ceremony = program.command('ceremony').description("the organisations' phase-2 ceremony for the aggregator's next key set (docs/keys.md)");
ceremony
  .command('start')
  .description('(operator) start a ceremony from a powers-of-tau file on the aggregator machine')
  .requiredOption('--ptau <path>', 'the powers-of-tau file, as a path on the aggregator machine')
  .option('--ptau-hash <blake2b>', 'its blake2b-512, if it is not one of the published perpetual powers of tau')
  .option('--url <url>', 'aggregator URL (default: ZKTRUST_URL or http://127.0.0.1:8080)', DEFAULT_URL)
  .option('--token <token>', 'admin token (default: ZKTRUST_ADMIN_TOKEN, else data/admin.token)')
  .action(async (o: { ptau: string; ptauHash?: string; url: string; token?: string }) => {
    const { resolve } = await import('node:path');
    console.log(JSON.stringify(await adminPost(o.url, '/v1/admin/ceremony', await adminToken(o.token), { ptau: resolve(o.ptau), ...(o.ptauHash ? { ptauHash: o.ptauHash } : {}) }), null, 2));
  });
ceremony
  .command('status')
  .description("the ceremony's public state and transcript")
  .option('--url <url>', 'aggregator URL (default: ZKTRUST_URL or http://127.0.0.1:8080)', DEFAULT_URL)
  .option('--json', 'print the whole state as JSON')
  .action(async (o: { url: string; json?: boolean }) => {
    const { CeremonyClient } = await import('../client/ceremony-client.ts');
    const s = await new CeremonyClient(new Uint8Array(32).fill(1), o.url).status();
    if (o.json) return console.log(JSON.stringify(s, null, 2));
    console.log(`ceremony ${s.id} (${s.config}): ${s.status}${s.error ? ` (${s.error})` : ''}; phase 1: ptau of power ${s.phase1.power}, ${s.phase1.published ? 'published' : 'declared by the operator'}`);
    for (const [circuit, steps] of Object.entries(s.circuits)) {
      console.log(`${circuit}:`);
      for (const st of steps) console.log(`  ${st.index}. ${st.kind}${st.org ? ` by ${st.org} (${st.name})` : ''}${st.contributionHash ? ` ${st.contributionHash.slice(0, 32)}...` : ''}`);
    }
    if (s.keySetHash) console.log(`key set ${s.keySetHash} from checkpoint ${s.activateAt}`);
  });
ceremony
  .command('contribute')
  .description('(organisation) add a contribution with your own randomness to every circuit')
  .option('--key <hex>', "the organisation's secret key")
  .option('--key-file <file>', 'a key file made by keygen')
  .option('--name <name>', 'a name for the transcript (default: your did:key)')
  .option('--entropy <text>', 'extra text mixed into the OS randomness')
  .option('--url <url>', 'aggregator URL (default: ZKTRUST_URL or http://127.0.0.1:8080)', DEFAULT_URL)
  .option('--json', 'print the results as JSON')
  .action(async (o: { key?: string; keyFile?: string; name?: string; entropy?: string; url: string; json?: boolean }) => {
    const { CeremonyClient } = await import('../client/ceremony-client.ts');
    const client = new CeremonyClient(await secretKeyOf(o), o.url);
    const results = await client.contribute({ name: o.name, entropy: o.entropy, onStep: (c, what) => !o.json && console.error(`${c}: ${what}`) });
    if (o.json) console.log(JSON.stringify(results, null, 2));
    else for (const r of results) console.log(`${r.circuit}: step ${r.step}, contribution ${r.contributionHash} (${(r.contributeMs / 1000).toFixed(1)} s to contribute, ${(r.uploadMs / 1000).toFixed(1)} s to upload and be checked)`);
  });
ceremony
  .command('finalize')
  .description('(operator) finish the ceremony with a public beacon chosen in advance, and schedule the key set')
  .requiredOption('--beacon <hex>', 'the public random value (16 to 64 bytes of hex), announced before the ceremony')
  .option('--iterations <exp>', 'beacon hash iterations, as an exponent of 2 (10 to 63)', integer, 10)
  .option('--activate-at <checkpoint>', 'the first checkpoint proven under the new keys (default: the next one)', integer)
  .option('--url <url>', 'aggregator URL (default: ZKTRUST_URL or http://127.0.0.1:8080)', DEFAULT_URL)
  .option('--token <token>', 'admin token (default: ZKTRUST_ADMIN_TOKEN, else data/admin.token)')
  .action(async (o: { beacon: string; iterations: number; activateAt?: number; url: string; token?: string }) => {
    const body = { beacon: o.beacon.toLowerCase(), iterations: o.iterations, ...(o.activateAt !== undefined ? { activateAt: o.activateAt } : {}) };
    console.log(JSON.stringify(await adminPost(o.url, '/v1/admin/ceremony/finalize', await adminToken(o.token), body), null, 2));
  });

/** POSTs JSON with the admin token; throws the problem's detail on an error status. */
async function adminPost(url: string, path: string, token: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${url.replace(/\/$/, '')}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  const json = (await res.json()) as { code?: string; detail?: string };
  if (!res.ok) throw Object.assign(new Error(json.detail ?? `HTTP ${res.status}`), { code: json.code ?? 'http_error' });
  return json;
}

program
  .command('build')
  .description("compile a configuration's circuits and the native addons ahead of the first start (a container image's build, an installed package); checked against artifacts/manifest.json, no keys made")
  .option('--config <name>', 'circuit configuration (circuits/circuits.json)', process.env.ZKTRUST_CIRCUITS || 'production')
  .action(async (o: { config: string }) => {
    const t0 = performance.now();
    const stamp = () => `[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s]`;
    // No development keys and the manifest is never changed: a build that is not reproducible fails.
    await ensureArtifacts(o.config, { update: false, devKeys: false, onProgress: (m) => console.error(stamp(), m) });
    console.log(`${o.config}: circuits match artifacts/manifest.json`);
    // Unlike at run time, a missing compiler or Node-API headers is an error here, unless ZKTRUST_NATIVE=0.
    if (process.env.ZKTRUST_NATIVE === '0') console.log('native addons skipped (ZKTRUST_NATIVE=0)');
    else {
      const { buildAddon } = await import('../native/addon.ts');
      for (const name of ['poseidon-bn254', 'msm-bn254'] as const) console.log(`${name}: ${await buildAddon(name)}`);
    }
    console.error(stamp(), 'built');
  });

program
  .command('setup')
  .description('build circuits and development keys for a configuration (see docs/keys.md for the ceremony)')
  .option('--config <name>', 'test or production', 'production')
  .action(async (o: { config: string }) => {
    let bar: Progress | undefined;
    let step = '';
    const t0 = performance.now();
    let manifest;
    try {
      manifest = await ensureArtifacts(o.config, {
        update: true,
        onProgress: (m) => {
          // Key generation's percentages are on the bar already.
          if (/: keys: .* \d+%$/.test(m)) return;
          // Compiling reports nothing until it is done: a spinner with the elapsed time meanwhile.
          const next = m.endsWith(': compiling') ? new Progress(m) : undefined;
          if (bar) bar.finish(next ? undefined : m);
          else if (!next) console.error(m);
          bar = next?.animate();
          step = '';
        },
        onKeyProgress: (circuit, phase, done, total) => {
          if (`${circuit} ${phase}` !== step) {
            bar?.finish();
            step = `${circuit} ${phase}`;
            bar = new Progress(`${circuit}: keys: ${phase}`, { total });
          }
          bar!.update(done);
        },
      });
    } finally {
      bar?.stop();
    }
    const conf = manifest.configurations[o.config]!;
    for (const [name, c] of Object.entries(conf.circuits)) console.log(`${o.config}/${name}: ${c.constraints} constraints, ${conf.mode === 'dev' ? 'development keys (INSECURE)' : 'ceremony keys'}`);
    const took = ((performance.now() - t0) / 1000).toFixed(1);
    console.error(conf.mode === 'dev' ? `${o.config}: circuits and development keys match artifacts/manifest.json (${took} s)` : `${o.config}: ceremony keys are not rebuilt here (docs/keys.md)`);
  });

program
  .command('demo')
  .description('run the end-to-end demonstration (3 organisations, 20 agents)')
  .action(async () => {
    await import('./demo.ts');
  });

program.parseAsync().catch((e: unknown) => {
  const { message, exitCode } = describeError(e);
  if (message) console.error(message);
  process.exit(exitCode);
});
