/**
 * The organisations' ceremony end to end, on the small ceremony-test configuration (real
 * server, real LevelDB, real proofs, a locally made powers of tau standing in for the
 * published one, passed with its hash):
 *   - the operator starts it; the ptau is checked; while it prepares, another start is refused;
 *   - attacks on an upload, each refused with its status and nothing changed: an unregistered
 *     or suspended organisation, a statement signed by another key or out of time, a key that
 *     does not chain, a stale step, a replay, a body that is not what the statement signs, a
 *     contribution of 1, an oversized body;
 *   - two organisations contribute (one with `zktrust ceremony contribute`), a beacon
 *     finishes it; the key set takes effect from the named checkpoint; batches before it stay
 *     auditable under the local keys; presentations after it name the ceremony key set;
 *   - the beta forgery: the development beta fails under the ceremony's keys, this test's own
 *     phase-1 beta succeeds (why phase 1 must be published), and a verifier requiring a
 *     ceremony refuses that phase 1;
 *   - `zktrust audit --ptau` checks the transcript, the proving keys and runs snarkjs zkey
 *     verify; a tampered transcript fails the audit.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { audit } from '../../src/audit/audit.ts';
import { AgentClient } from '../../src/client/agent-client.ts';
import { CeremonyClient } from '../../src/client/ceremony-client.ts';
import { OrgClient } from '../../src/client/org-client.ts';
import { signingBytes } from '../../src/crypto/canonical.ts';
import { generateKeyPair, sign } from '../../src/crypto/ed25519.ts';
import { readSections } from '../../src/crypto/binfile.ts';
import { KEY_SET_FILE } from '../../src/keys/key-set-dir.ts';
import { contribute, encodeMpcParams, makeContribution, parseMpcParams } from '../../src/keys/phase2.ts';
import { blake2bFile } from '../../src/keys/ptau.ts';
import { keyCurve, readGrothHeader, replaceSections } from '../../src/keys/zkey-file.ts';
import { PROJECT_ROOT } from '../../src/prover/artifacts.ts';
import { loadConfig } from '../../src/service/config.ts';
import { startService, type RunningService } from '../../src/service/server.ts';
import type { ContributionStatement } from '../../src/service/ceremony.ts';
import { createVerifier } from '../../src/verifier/presentation.ts';
import { writeKnownPtau } from '../helpers/known-ptau.ts';
import { forgeWithBeta } from '../helpers/forge.ts';
import { deriveDevSecrets } from '../../src/build/dev-zkey.ts';
import { DEV_SEED } from '../../src/build/ensure-artifacts.ts';
import { contextHash } from '../../src/crypto/context.ts';
import { didFromPublicKey, identityField, publicKeyFromDid } from '../../src/crypto/identity.ts';
import { CIRCUIT_POLICY, policyHash } from '../../src/crypto/score-policy.ts';
import { verifyGroth16 } from '../../src/verifier/groth16.ts';
import { registerOrgs } from '../helpers/service.ts';

// The secrets of this test's powers of tau (a stand-in for a published one, whose secrets nobody knows).
const PTAU_SECRETS = { tau: 7n ** 40n, alpha: 11n ** 30n, beta: 13n ** 25n };
let dir: string;
let svc: RunningService;
let ptau: string;
let ptauHash: string;
const [orgA, orgB, orgC, outsider] = [generateKeyPair(), generateKeyPair(), generateKeyPair(), generateKeyPair()];
const agent = generateKeyPair();
const agentDid = didFromPublicKey(agent.publicKey);
const admin = { 'content-type': 'application/json', authorization: 'Bearer t' };
const config = () => ({ ...loadConfig({ ZKTRUST_CIRCUITS: 'ceremony-test' }), port: 0, dataDir: join(dir, 'data'), adminToken: 't', batchMaxWaitMs: 100 });
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', env: { ...process.env, ZKTRUST_URL: svc.url } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

async function submit(org: ReturnType<typeof generateKeyPair>, epoch: number): Promise<void> {
  await new OrgClient(org.secretKey, svc.url, svc.aggregator.did).submit([{ agent: agentDid, epoch, kept: 60, broken: 0, violations: 0 }]);
  await svc.aggregator.drain(120_000);
}

/** Downloads the latest key of a circuit: its bytes, step and sha256. */
async function latest(circuit: string) {
  const res = await fetch(`${svc.url}/v1/ceremony/${circuit}/latest.zkey`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { bytes, step: Number(res.headers.get('zktrust-step')), sha: res.headers.get('zktrust-sha256')! };
}

/** Uploads `bytes` as a contribution with a statement (honest unless edited) signed by `signer`. */
async function upload(circuit: string, bytes: Uint8Array, st: ContributionStatement, signer = orgA, contentType = 'application/octet-stream') {
  const signature = Buffer.from(sign(signingBytes('ceremony-contribution', st), signer.secretKey)).toString('hex');
  const res = await fetch(`${svc.url}/v1/ceremony/${circuit}/contributions`, {
    method: 'POST',
    headers: { 'content-type': contentType, 'zktrust-statement': Buffer.from(JSON.stringify(st)).toString('base64url'), 'zktrust-signature': signature },
    body: new Blob([bytes as Uint8Array<ArrayBuffer>]),
  });
  return { status: res.status, json: (await res.json()) as any };
}

function statementFor(org: ReturnType<typeof generateKeyPair>, circuit: string, prev: { step: number; sha: string }, next: Uint8Array, contributionHash: string, over: Partial<ContributionStatement> = {}): ContributionStatement {
  return {
    ceremony: svc.aggregator.ceremony.status().id,
    circuit,
    index: prev.step + 1,
    previous: prev.sha,
    next: createHash('sha256').update(next).digest('hex'),
    contributionHash,
    org: didFromPublicKey(org.publicKey),
    name: 'test',
    time: Math.floor(Date.now() / 1000),
    ...over,
  };
}

const stepsCount = () => Object.values(svc.aggregator.ceremony.status().circuits).map((s) => s.length);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zktrust-ceremony-'));
  // A powers of tau with secrets known to this test, kept between runs (it stands in for a published one).
  ptau = join(PROJECT_ROOT, 'build', 'test-keys', 'known-power-14.ptau');
  if (!existsSync(ptau)) await writeKnownPtau(ptau, 14, PTAU_SECRETS);
  ptauHash = await blake2bFile(ptau);
  svc = await startService(config(), () => {});
  await registerOrgs(svc.url, 't', [orgA, orgB, orgC]);
  await submit(orgA, 1);
}, 240_000);

afterAll(async () => {
  await svc?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the organisations' ceremony", () => {
  it('starts from a checked powers of tau; a second start is refused while it runs', async () => {
    expect((await fetch(`${svc.url}/v1/ceremony`)).status).toBe(404);
    const post = (body: unknown, headers: Record<string, string> = admin) => fetch(`${svc.url}/v1/admin/ceremony`, { method: 'POST', headers, body: JSON.stringify(body) });
    expect((await post({ ptau })).status).toBe(400); // not a published file, and no hash given
    expect((await post({ ptau, ptauHash: '00'.repeat(64) })).status).toBe(400);
    expect((await post({ ptau: join(dir, 'missing.ptau'), ptauHash })).status).toBe(400);
    expect((await post({ ptau, ptauHash }, { 'content-type': 'application/json' })).status).toBe(401);
    const started = await post({ ptau, ptauHash });
    expect(started.status).toBe(202);
    expect(await started.json()).toMatchObject({ status: 'preparing', config: 'ceremony-test', phase1: { blake2b: ptauHash, power: 14, published: false } });
    expect((await post({ ptau, ptauHash })).status).toBe(409);
    await svc.aggregator.ceremony.settled();
    const state = (await (await fetch(`${svc.url}/v1/ceremony`)).json()) as any;
    expect(state.status).toBe('open');
    expect(JSON.stringify(state)).not.toContain(ptau); // the server's path stays private
    expect(Object.keys(state.circuits).sort()).toEqual(['batch-update', 'threshold']);
  }, 240_000);

  it('refuses every bad upload with its status, and changes nothing', async () => {
    const circuit = 'threshold';
    const prev = await latest(circuit);
    const { bytes, contributionHash } = await contribute(prev.bytes, { name: 'x' });
    const honest = statementFor(orgA, circuit, prev, bytes, contributionHash);
    const before = stepsCount();
    // Who: not registered, suspended, signed by another key, out of time.
    expect((await upload(circuit, bytes, statementFor(outsider, circuit, prev, bytes, contributionHash), outsider)).json.code).toBe('unknown_org');
    await fetch(`${svc.url}/v1/admin/orgs/${didFromPublicKey(orgC.publicKey)}/suspend`, { method: 'POST', headers: admin });
    expect((await upload(circuit, bytes, statementFor(orgC, circuit, prev, bytes, contributionHash), orgC)).json.code).toBe('org_suspended');
    await fetch(`${svc.url}/v1/admin/orgs/${didFromPublicKey(orgC.publicKey)}/activate`, { method: 'POST', headers: admin });
    expect(await upload(circuit, bytes, honest, orgB)).toMatchObject({ status: 401, json: { code: 'invalid_signature' } });
    expect((await upload(circuit, bytes, { ...honest, time: honest.time - 3600 })).json.code).toBe('stale_timestamp');
    // What: a stale step, a body other than the signed one, a key that does not chain, a contribution of 1, too large, not binary.
    expect((await upload(circuit, bytes, { ...honest, index: prev.step + 2 })).status).toBe(409);
    expect((await upload(circuit, bytes, { ...honest, previous: 'ab'.repeat(32) })).status).toBe(409);
    expect(await upload(circuit, bytes.subarray(0, bytes.length - 1), honest)).toMatchObject({ status: 400, json: { code: 'out_of_range' } });
    const init = new Uint8Array(await readFile(join(dir, 'data', 'ceremony', svc.aggregator.ceremony.status().id, circuit, '0.zkey')));
    const twoStep = (await contribute((await contribute(init, { name: 'a' })).bytes, { name: 'b' }));
    const notChaining = await upload(circuit, twoStep.bytes, statementFor(orgA, circuit, prev, twoStep.bytes, twoStep.contributionHash));
    expect(notChaining).toMatchObject({ status: 400, json: { code: 'out_of_range' } });
    expect(notChaining.json.detail).toMatch(/exactly one contribution|earlier contributions/);
    const curve = await keyCurve();
    const s = readSections(prev.bytes, 'zkey');
    const mpc = parseMpcParams(curve, s.get(10)!);
    const one = makeContribution(curve, { csHash: mpc.csHash, previous: mpc.contributions, prevDelta1: readGrothHeader(curve, s.get(2)!).delta1, k: 1n });
    const zero = replaceSections(prev.bytes, 'zkey', new Map([[10, encodeMpcParams(curve, { csHash: mpc.csHash, contributions: [...mpc.contributions, one] })]]));
    const zeroUpload = await upload(circuit, zero, statementFor(orgA, circuit, prev, zero, '00'.repeat(64)));
    expect(zeroUpload).toMatchObject({ status: 400, json: { code: 'out_of_range' } });
    expect(zeroUpload.json.detail).toMatch(/unchanged/);
    const big = new Uint8Array(prev.bytes.length + 10_000);
    expect(await upload(circuit, big, statementFor(orgA, circuit, prev, big, contributionHash))).toMatchObject({ status: 413, json: { code: 'payload_too_large' } });
    expect((await upload(circuit, bytes.subarray(0, 100), honest, orgA, 'application/json')).status).toBe(400);
    const noHeaders = await fetch(`${svc.url}/v1/ceremony/${circuit}/contributions`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Blob([bytes as Uint8Array<ArrayBuffer>]) });
    expect(noHeaders.status).toBe(400);
    expect(stepsCount()).toEqual(before);
    // The honest upload is accepted; the same request again is a replay.
    expect(await upload(circuit, bytes, honest)).toMatchObject({ status: 201, json: { index: prev.step + 1, contributionHash, org: honest.org } });
    expect((await upload(circuit, bytes, honest)).status).toBe(409);
    // A second contribution by the same organisation is refused.
    const after = await latest(circuit);
    const more = await contribute(after.bytes, { name: 'again' });
    expect((await upload(circuit, more.bytes, statementFor(orgA, circuit, after, more.bytes, more.contributionHash))).json.detail).toMatch(/already contributed/);
  }, 180_000);

  it('organisations contribute with the command line and the client; finalize refuses a bad beacon, then schedules the key set', async () => {
    await writeFile(join(dir, 'a.json'), JSON.stringify({ secretKey: Buffer.from(orgA.secretKey).toString('hex') }));
    await writeFile(join(dir, 'b.json'), JSON.stringify({ secretKey: Buffer.from(orgB.secretKey).toString('hex') }));
    // Organisation A has contributed to threshold already: its run contributes to batch-update only.
    const resumed = await run(['ceremony', 'contribute', '--key-file', join(dir, 'a.json')]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/threshold: already contributed; skipped/);
    expect(resumed.stdout).toMatch(/^batch-update: step 1, contribution [0-9a-f]{128} \([\d.]+ s to contribute, [\d.]+ s to upload and be checked\)\n$/);
    const cli = await run(['ceremony', 'contribute', '--key-file', join(dir, 'b.json'), '--name', 'Org B', '--entropy', 'coin flips', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout).map((r: { circuit: string }) => r.circuit)).toEqual(['batch-update', 'threshold']);
    // Organisation C, through the client, to both circuits.
    expect((await new CeremonyClient(orgC.secretKey, svc.url).contribute({ name: 'Org C' })).length).toBe(2);
    const status = await run(['ceremony', 'status']);
    expect(status.stdout).toMatch(/threshold:\n {2}0\. init\n {2}1\. contribution by did:key:.* \(test\).*\n {2}2\. contribution by .* \(Org B\)/);
    const finalize = (body: unknown) => fetch(`${svc.url}/v1/admin/ceremony/finalize`, { method: 'POST', headers: admin, body: JSON.stringify(body) });
    expect((await finalize({ beacon: 'xyz' })).status).toBe(400);
    expect((await finalize({ beacon: 'ab'.repeat(32), activateAt: 1 })).status).toBe(400); // not a future checkpoint
    const latestSeq = svc.aggregator.latestCheckpoint()!.body.sequence;
    const done = await run(['ceremony', 'finalize', '--beacon', 'cd'.repeat(32), '--activate-at', String(latestSeq + 1), '--token', 't']);
    expect(done.code, done.stderr).toBe(0);
    await svc.aggregator.ceremony.settled();
    const state = svc.aggregator.ceremony.status();
    expect(state).toMatchObject({ status: 'finalized', activateAt: latestSeq + 1 });
    expect(state.circuits.threshold!.map((s) => s.kind)).toEqual(['init', 'contribution', 'contribution', 'contribution', 'beacon']);
    expect(state.circuits['batch-update']!.map((s) => s.kind)).toEqual(['init', 'contribution', 'contribution', 'contribution', 'beacon']);
    const keys = (await (await fetch(`${svc.url}/v1/keys/${state.keySetHash}`)).json()) as any;
    expect(keys).toMatchObject({ mode: 'ceremony', fromSequence: latestSeq + 1, forgeableBy: 'colluding-participants', phase1: { kind: 'ptau', blake2b: ptauHash, power: 14 } });
    expect(keys.transcript.circuits.threshold).toHaveLength(5);
  }, 240_000);

  it('the key set takes effect from the named checkpoint; presentations name it; verifiers choose what they accept', async () => {
    const context = { nonce: 'n', audience: 'https://gw.example', expiry: Math.floor(Date.now() / 1000) + 600 };
    const e = { agent: agentDid, minScore: 500, context: { nonce: 'n', audience: 'https://gw.example' }, maxAgeS: 600 };
    const before = await new AgentClient(agent.secretKey, svc.url).present({ minScore: 500, context });
    await submit(orgB, 2);
    const cp = svc.aggregator.latestCheckpoint()!.body;
    expect(cp).toMatchObject({ keyMode: 'ceremony', keySetHash: svc.aggregator.ceremony.status().keySetHash });
    const after = await new AgentClient(agent.secretKey, svc.url).present({ minScore: 500, context });
    const ceremonyOnly = createVerifier({ aggregatorKeys: [svc.aggregator.did], requireKeyMode: 'ceremony', trustedPtauHashes: [ptauHash] });
    expect(await ceremonyOnly.verifyPresentation(after, e)).toMatchObject({ ok: true, keyMode: 'ceremony', forgeableBy: 'colluding-participants' });
    expect(await ceremonyOnly.verifyPresentation(before, e)).toMatchObject({ ok: false, reason: 'key_mode_not_accepted', keyMode: 'local' });
    // Without the test's ptau in its list, this phase 1 is not a published one.
    expect((await createVerifier({ aggregatorKeys: [svc.aggregator.did], requireKeyMode: 'ceremony' }).verifyPresentation(after, e)).reason).toBe('unpublished_phase1');
    // The forgery with beta: the development beta fails under the ceremony's keys; the beta of
    // this test's own powers of tau succeeds, which is why phase 1 must be one nobody knows.
    const stranger = didFromPublicKey(generateKeyPair().publicKey);
    const cpSigned = svc.aggregator.latestCheckpoint()!;
    const vkey = (after as any).verificationKey;
    const forgedContext = { nonce: 'f', audience: 'https://victim.example', expiry: Math.floor(Date.now() / 1000) + 600 };
    const signals = [BigInt(cpSigned.body.stateRoot), identityField(publicKeyFromDid(stranger)), 999n, 0n, 0n, policyHash(CIRCUIT_POLICY), contextHash(forgedContext)];
    const forge = async (beta: bigint) => ({ ...(after as any), agent: stranger, context: forgedContext, publicSignals: signals.map(String), proof: await forgeWithBeta(vkey, signals, beta) });
    const fe = { agent: stranger, minScore: 999, context: { nonce: 'f', audience: 'https://victim.example' }, maxAgeS: 600 };
    expect(await ceremonyOnly.verifyPresentation(await forge(deriveDevSecrets(DEV_SEED).beta), fe)).toMatchObject({ ok: false, reason: 'invalid_proof', keyMode: 'ceremony' });
    const withPhase1Secret = await forge(PTAU_SECRETS.beta);
    expect(await verifyGroth16(vkey, withPhase1Secret.publicSignals, withPhase1Secret.proof)).toBe(true);
    expect((await createVerifier({ aggregatorKeys: [svc.aggregator.did], requireKeyMode: 'ceremony' }).verifyPresentation(withPhase1Secret, fe)).reason).toBe('unpublished_phase1');
    // A default verifier accepts it, as forgeable by the operator who chose that phase 1.
    expect(await createVerifier({ aggregatorKeys: [svc.aggregator.did] }).verifyPresentation(after, e)).toMatchObject({ ok: true, keyMode: 'ceremony', forgeableBy: 'operator' });
  }, 120_000);

  it('zktrust audit --ptau checks the transcript and runs snarkjs zkey verify; a tampered transcript fails', async () => {
    const r = await run(['audit', '--json', '--ptau', ptau]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.keySets.map((k: any) => k.mode)).toEqual(['local', 'ceremony']);
    expect(report.keySets[1].ceremony).toMatchObject({ fullyVerified: true, publishedPhase1: false });
    expect(report.keySets[1].ceremony.contributors.threshold).toHaveLength(3);
    // The transcript edited on disk: a statement's signature no longer covers it.
    const hash = svc.aggregator.ceremony.status().keySetHash!;
    await svc.close();
    const path = join(dir, 'data', 'keys', hash, KEY_SET_FILE);
    const file = JSON.parse(await readFile(path, 'utf8'));
    file.transcript.circuits.threshold[1].statement.name = 'someone else';
    await writeFile(path, JSON.stringify(file));
    svc = await startService(config(), () => {});
    const tampered = await audit(svc.url, { aggregator: svc.aggregator.did });
    expect(tampered.ok).toBe(false);
    expect(tampered.failures.join('\n')).toMatch(/threshold: step 1: the statement is not signed by/);
  }, 300_000);
});

