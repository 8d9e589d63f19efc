/**
 * The package installed as a stranger installs it: `npm pack`, then the tarball installed into
 * an empty project outside this repository, and used only through what it publishes: plain
 * Node ESM imports of zktrust, zktrust/verifier, zktrust/client and zktrust/service; a strict
 * `tsc` of a consumer file against the published declarations; `npx zktrust`; a browser bundle
 * of the verifier; and the installed command line compiling the circuits and serving, with an
 * organisation, an agent and a verifier written against the installed modules.
 *
 * Nothing is downloaded: the empty project's lockfile names the exact versions this
 * repository's lockfile resolved (what `npm install zktrust` resolves today, the dependencies
 * being pinned), and `npm ci --offline` takes them from the npm cache that installing this
 * repository filled. The project's only other packages are a stranger's tools: typescript,
 * @types/node and esbuild.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChildService, type ChildService } from '../helpers/child-service.ts';
import { ROOT } from '../helpers/circuit.ts';
import { testLocalKeySetDir } from '../helpers/keys.ts';

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; bin: Record<string, string>; engines: Record<string, string>; license: string };
/** A stranger's development tools, at the versions this repository's lockfile has. */
const TOOLS = ['typescript', '@types/node', 'esbuild'];

interface LockEntry { version?: string; dev?: boolean; link?: boolean; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; [k: string]: unknown }

/** An empty project depending on the tarball (and the tools), with a lockfile that needs no registry. */
async function strangerProject(dir: string, tarball: string): Promise<void> {
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const tools = Object.fromEntries(TOOLS.map((t) => [t, lock.packages[`node_modules/${t}`]!.version!]));
  const spec = `file:${tarball}`;
  const packages: Record<string, LockEntry> = {
    '': { name: 'stranger', version: '1.0.0', dependencies: { zktrust: spec }, devDependencies: tools },
    'node_modules/zktrust': {
      version: pkg.version, resolved: spec, integrity: `sha512-${createHash('sha512').update(await readFile(tarball)).digest('base64')}`,
      license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path || entry.link) continue;
    if (!entry.dev) packages[path] = entry;
    // The tools and what they need: undici-types (@types/node), esbuild's platform packages.
    else if (/^node_modules\/(typescript|@types\/node|undici-types|esbuild|@esbuild\/[^/]+)$/.test(path)) packages[path] = entry;
  }
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'stranger', version: '1.0.0', private: true, type: 'module', dependencies: { zktrust: spec }, devDependencies: tools }, null, 2));
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify({ name: 'stranger', version: '1.0.0', lockfileVersion: 3, requires: true, packages }, null, 2));
}

let tmp: string;
let project: string;
let packed: { files: Array<{ path: string; size: number }>; size: number; unpackedSize: number; filename: string };
const inProject = (cmd: string, args: string[], env: Record<string, string> = {}) =>
  run(cmd, args, { cwd: project, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'zktrust-stranger-'));
  project = join(tmp, 'project');
  await mkdir(project);
  // dist/ is current (the global setup built it); --ignore-scripts: no rebuild under tests that read it.
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
  packed = (JSON.parse(stdout) as (typeof packed)[])[0]!;
  await strangerProject(project, join(tmp, packed.filename));
  await inProject('npm', ['ci', '--offline', '--no-audit', '--no-fund']);
  console.log(`npm pack: ${packed.files.length} files, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked`);
}, 300_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('the published package', () => {
  it('holds the built modules, their declarations, the circuits, keys and protocol documents, and nothing of the repository besides', () => {
    const files = packed.files.map((f) => f.path);
    for (const entry of ['index', 'verifier/index', 'client/index', 'service/index', 'onchain/index', 'cli/main']) {
      expect(files, entry).toContain(`dist/src/${entry}.js`);
      expect(files, entry).toContain(`dist/src/${entry}.d.ts`);
    }
    for (const f of ['bin/zktrust.js', 'artifacts/manifest.json', 'artifacts/production/threshold.vkey.json', 'circuits/circuits.json', 'circuits/lib/batch-update.circom', 'native/poseidon-bn254.c', 'docs/protocol.md', 'README.md', 'package.json']) expect(files, f).toContain(f);
    // The workers that run beside the modules (.mjs, copied by the build).
    expect(files).toContain('dist/src/engines/commitment-worker.mjs');
    expect(files).toContain('dist/src/keys/fixed-base-worker.mjs');
    // The observatory page, prebuilt (an installed package has neither src/ nor esbuild).
    for (const f of ['index.html', 'observatory.js', 'observatory.css', 'icon.svg']) expect(files).toContain(`dist/observatory/${f}`);
    // No tests, sources, scripts, builds, keys or local settings.
    expect(files.filter((f) => /^(test|src|scripts|build|tmp|data|\.ci|node_modules)\//.test(f) || /\.(zkey|ptau|ts)$/.test(f) && !f.endsWith('.d.ts') || /^tsconfig|^\.|\/\./.test(f))).toEqual([]);
    // Every file the exports map and the bin name is in it.
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> };
    for (const target of Object.values(manifest.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)))) expect(files).toContain(target.replace(/^\.\//, ''));
  });

  it('imports from plain Node (ESM), without tsx', async () => {
    expect(existsSync(join(project, 'node_modules', 'tsx'))).toBe(false);
    await writeFile(join(project, 'imports.mjs'), `
import * as root from 'zktrust';
import * as verifier from 'zktrust/verifier';
import * as client from 'zktrust/client';
import * as service from 'zktrust/service';
import * as onchain from 'zktrust/onchain';
import { createRequire } from 'node:module';
const kinds = (m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v]).sort());
const { secretKey, publicKey } = client.generateKeyPair();
console.log(JSON.stringify({
  verifier: kinds(verifier), client: kinds(client), service: kinds(service), onchain: kinds(onchain), root: Object.keys(root).sort(),
  did: client.didFromPublicKey(publicKey),
  bundledKeys: Object.keys(verifier.BUNDLED_KEYS),
  version: createRequire(import.meta.url)('zktrust/package.json').version,
  resolved: import.meta.resolve('zktrust/verifier'),
}));
`);
    const { stdout } = await inProject(process.execPath, ['imports.mjs']);
    const out = JSON.parse(stdout) as { verifier: Record<string, string>; client: Record<string, string>; service: Record<string, string>; onchain: Record<string, string>; root: string[]; did: string; bundledKeys: string[]; version: string; resolved: string };
    expect(out.verifier).toMatchObject({ createVerifier: 'function', verifyGroth16: 'function', checkTrustGate: 'function', createTrustProvider: 'function', BUNDLED_KEYS: 'object' });
    expect(out.client).toMatchObject({ OrgClient: 'function', AgentClient: 'function', CeremonyClient: 'function', ClientError: 'function', buildSubmission: 'function', generateKeyPair: 'function', loadNativePoseidon: 'function' });
    expect(out.service).toMatchObject({ startService: 'function', loadConfig: 'function', ensureArtifacts: 'function' });
    expect(out.onchain).toMatchObject({ solidityGate: 'function', solidityVerifier: 'function', gateVerifyCalldata: 'function', publishCheckpointCalldata: 'function' });
    expect(out.verifier).toMatchObject({ toVerifiablePresentation: 'function', checkAgentCardTrust: 'function', createAgtTrustProvider: 'function' });
    expect(out.root).toEqual(expect.arrayContaining(['createVerifier', 'OrgClient', 'AgentClient']));
    expect(out.did).toMatch(/^did:key:z6Mk/);
    expect(out.bundledKeys).toEqual(['test', 'production']);
    expect(out.version).toBe(pkg.version);
    expect(out.resolved).toBe(`file://${project}/node_modules/zktrust/dist/src/verifier/index.js`);
  });

  it('type-checks a consumer with strict tsc against the published declarations, and they are not any', async () => {
    const tsconfig = { compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: false, types: ['node'] }, files: ['consumer.ts'] };
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify(tsconfig));
    const consumer = (verify: string) => `
import { createVerifier, type VerificationResult } from 'zktrust/verifier';
import { AgentClient, OrgClient, generateKeyPair, type RecordInput } from 'zktrust/client';
import { loadConfig, startService, type RunningService } from 'zktrust/service';

const org = generateKeyPair();
const records: RecordInput[] = [{ agent: 'did:key:z6MkAgent', epoch: 20400, kept: 12, broken: 0, violations: 0 }];
export const submitted = new OrgClient(org.secretKey, 'http://127.0.0.1:8080', 'did:key:z6MkAggregator').submit(records);
export const presented = new AgentClient(org.secretKey, 'http://127.0.0.1:8080').present({ minScore: 700, context: { nonce: 'n', audience: 'a', expiry: 1 } });
export const started: Promise<RunningService> = startService(loadConfig({ PORT: '0' }));
const verifier = createVerifier({ aggregatorKeys: ['did:key:z6MkAggregator'] });
export const result: Promise<VerificationResult> = ${verify};
`;
    await writeFile(join(project, 'consumer.ts'), consumer(`verifier.verifyPresentation({}, { agent: 'did:key:z6MkAgent', minScore: 700, context: { nonce: 'n', audience: 'a' }, maxAgeS: 3600 })`));
    const tsc = join(project, 'node_modules', '.bin', 'tsc');
    await inProject(tsc, ['-p', '.']);
    // A mistake is caught: the types are real, not `any`.
    await writeFile(join(project, 'consumer.ts'), consumer(`verifier.verifyPresentation({}, { agent: 'did:key:z6MkAgent', minScore: '700', context: { nonce: 'n', audience: 'a' }, maxAgeS: 3600 })`));
    const failed = await inProject(tsc, ['-p', '.']).then(() => undefined, (e: { stdout: string }) => e.stdout);
    expect(failed).toMatch(/consumer\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
  });

  it('runs npx zktrust --help and --version from the installed built JavaScript', async () => {
    const version = await inProject('npx', ['--offline', 'zktrust', '--version']);
    expect(version.stdout.trim()).toBe(pkg.version);
    const help = await inProject('npx', ['--offline', 'zktrust', '--help']);
    for (const command of ['serve', 'worker', 'submit', 'prove', 'verify', 'audit', 'build', 'ceremony']) expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    // A usage error is a usage error (exit code 2), not a crash.
    const bad = await inProject('npx', ['--offline', 'zktrust', 'no-such-command']).then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(bad?.code).toBe(2);
    expect(bad?.stderr).toMatch(/zktrust: unknown command 'no-such-command'/);
  });

  it('bundles zktrust/verifier for a browser: no Node built-in', async () => {
    await writeFile(join(project, 'browser.js'), `import { createVerifier } from 'zktrust/verifier';\nwindow.verifier = createVerifier({ aggregatorKeys: [] });\n`);
    const esbuild = join(project, 'node_modules', '.bin', 'esbuild');
    const { stderr } = await inProject(esbuild, ['browser.js', '--bundle', '--format=esm', '--platform=browser', '--minify', '--metafile=meta.json', '--outfile=bundle.js', '--log-level=warning']);
    expect(stderr).toBe('');
    const meta = JSON.parse(await readFile(join(project, 'meta.json'), 'utf8')) as { inputs: Record<string, { imports: Array<{ path: string; external?: boolean }> }> };
    const imports = Object.values(meta.inputs).flatMap((i) => i.imports.map((x) => x.path));
    expect(imports.filter((p) => p.startsWith('node:') || /^(fs|path|crypto|os|child_process|worker_threads|module|url)$/.test(p))).toEqual([]);
    expect(Object.keys(meta.inputs).some((p) => p.includes('node_modules/zktrust/dist/src/verifier/'))).toBe(true);
    const size = (await readFile(join(project, 'bundle.js'))).byteLength;
    console.log(`browser bundle of the installed zktrust/verifier: ${size} bytes minified`);
    expect(size).toBeLessThan(610_000);
  });
});

describe('the installed command line', () => {
  let svc: ChildService | undefined;
  afterAll(async () => {
    await svc?.kill();
  });

  it('compiles the circuits where npm put circomlib, as a user who cannot write the package (a global install), serves, and an organisation, an agent and a verifier written against the installed modules agree', async () => {
    // npm hoists circomlib beside zktrust: the circuits' includes must still find it.
    expect(existsSync(join(project, 'node_modules', 'circomlib'))).toBe(true);
    expect(existsSync(join(project, 'node_modules', 'zktrust', 'node_modules', 'circomlib'))).toBe(false);
    const installed = join(project, 'node_modules', 'zktrust');
    const bin = join(installed, 'bin', 'zktrust.js');
    const cache = join(tmp, 'cache');
    const buildDir = join(cache, 'zktrust', pkg.version, 'build');
    await mkdir(cache);
    let built;
    if (process.getuid?.() === 0) {
      // The package read-only, its user not root: the build goes to the user's cache.
      await run('chmod', ['-R', 'a-w', installed]);
      await run('chmod', ['755', tmp, project]);
      await run('chown', ['10001:10001', cache]);
      built = await inProject('setpriv', ['--reuid', '10001', '--regid', '10001', '--clear-groups', process.execPath, bin, 'build', '--config', 'test'], { HOME: join(tmp, 'nohome'), XDG_CACHE_HOME: cache, ZKTRUST_NATIVE: '0' });
    } else {
      built = await inProject(process.execPath, [bin, 'build', '--config', 'test'], { ZKTRUST_BUILD_DIR: buildDir, ZKTRUST_NATIVE: '0' });
    }
    expect(built.stdout).toContain('test: circuits match artifacts/manifest.json');
    expect(existsSync(join(buildDir, 'test', 'batch-update.r1cs'))).toBe(true);
    expect(existsSync(join(installed, 'build'))).toBe(false);

    // The service of the installed package, with the test configuration's shared local keys
    // (made by the global setup from the same circuits: their hashes are the manifest's).
    svc = await startChildService({ ZKTRUST_BUILD_DIR: buildDir, ZKTRUST_CIRCUITS: 'test', ZKTRUST_KEY_SET: testLocalKeySetDir(), ZKTRUST_DATA_DIR: join(project, 'data'), ZKTRUST_ADMIN_TOKEN: 'stranger-token', ZKTRUST_BATCH_MAX_WAIT_MS: '200' }, { bin, cwd: project });
    await writeFile(join(project, 'flow.mjs'), `
import { AgentClient, OrgClient, didFromPublicKey, generateKeyPair } from 'zktrust/client';
import { createVerifier } from 'zktrust/verifier';
const url = process.env.ZKTRUST_URL;
const { aggregator } = await (await fetch(url + '/v1/health')).json();
const agent = generateKeyPair();
const agentDid = didFromPublicKey(agent.publicKey);
let org;
for (const name of ['Acme', 'Globex']) {
  const keys = generateKeyPair();
  const res = await fetch(url + '/v1/admin/orgs', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer ' + process.env.ZKTRUST_ADMIN_TOKEN }, body: JSON.stringify({ name, publicKey: Buffer.from(keys.publicKey).toString('hex') }) });
  if (!res.ok) throw new Error('org add: ' + res.status);
  org = new OrgClient(keys.secretKey, url, aggregator);
  const submitted = await org.submit([20400, 20401, 20402].map((epoch) => ({ agent: agentDid, epoch, kept: 12, broken: 0, violations: 0 })));
  if (!(await org.checkInclusion(submitted))) throw new Error('inclusion refused');
}
const checkpoint = await org.waitUntilProven(6, { timeoutMs: 120000 });
const context = { nonce: crypto.randomUUID(), audience: 'https://gateway.example', expiry: Math.floor(Date.now() / 1000) + 600 };
const presentation = await new AgentClient(agent.secretKey, url).present({ minScore: 700, context });
const verifier = createVerifier({ aggregatorKeys: [aggregator] });
const expect = (audience) => ({ agent: agentDid, minScore: 700, context: { nonce: context.nonce, audience }, maxAgeS: 3600 });
const good = await verifier.verifyPresentation(presentation, expect(context.audience));
const elsewhere = await verifier.verifyPresentation(presentation, expect('https://another.example'));
console.log(JSON.stringify({ logSize: checkpoint.body.logSize, good, elsewhere: elsewhere.reason }));
`);
    const { stdout } = await inProject(process.execPath, ['flow.mjs'], { ZKTRUST_URL: svc.url, ZKTRUST_ADMIN_TOKEN: 'stranger-token' });
    const out = JSON.parse(stdout) as { logSize: number; good: { ok: boolean; reason: string; tier: string; keyMode: string }; elsewhere: string };
    expect(out.logSize).toBe(6);
    expect(out.good).toMatchObject({ ok: true, reason: 'ok', tier: 'trusted', keyMode: 'local' });
    expect(out.elsewhere).toBe('context_mismatch');

    // The observatory, served from the package's prebuilt dist/observatory/.
    const page = await fetch(`${svc.url}/`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
    expect(await page.text()).toContain('<script type="module" src="observatory.js"></script>');
    const script = await fetch(`${svc.url}/observatory.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(Buffer.from(await script.arrayBuffer()).equals(readFileSync(join(project, 'node_modules', 'zktrust', 'dist', 'observatory', 'observatory.js')))).toBe(true);
  }, 300_000);
});
