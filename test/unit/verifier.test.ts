/**
 * The presentation verifier on real threshold proofs (test configuration): an honest
 * presentation passes and is cached; each rejection reason has its own test; malformed input
 * throws; the verifier bundles for browsers without Node built-ins.
 */
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { configuration } from '../../scripts/lib/build-circuits.ts';
import { signingBytes } from '../../src/crypto/canonical.ts';
import { contextHash } from '../../src/crypto/context.ts';
import { generateKeyPair, sign } from '../../src/crypto/ed25519.ts';
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { didFromPublicKey, identityField } from '../../src/crypto/identity.ts';
import { ACCEPTED_POLICY_HASHES, POLICY_V2, evidenceScore, policyHash } from '../../src/crypto/score-policy.ts';
import { loadCircuitArtifacts } from '../../src/prover/artifacts.ts';
import { Groth16Prover } from '../../src/prover/groth16-prover.ts';
import { AgentState } from '../../src/state/agent-state.ts';
import { THRESHOLD_PUBLIC_SIGNALS, buildThresholdInput } from '../../src/state/threshold-input.ts';
import { createVerifier, type Expectations } from '../../src/verifier/index.ts';
import { ROOT } from '../helpers/circuit.ts';

const { config } = configuration('test');
const aggregator = generateKeyPair();
const aggregatorDid = didFromPublicKey(aggregator.publicKey);
const agent = generateKeyPair();
const agentDid = didFromPublicKey(agent.publicKey);
const T0 = 1_800_000_000_000;
let presentation: any;
let provenScore: number;
let batchVkey: any;

function expectations(over: Partial<Expectations> = {}): Expectations {
  return { agent: agentDid, minScore: provenScore, context: { nonce: 'nonce-1', audience: 'https://gateway.example' }, maxAgeS: 3600, ...over };
}
const verifier = (now = T0) => createVerifier({ aggregatorKeys: [aggregatorDid], now: () => now });
const clone = () => structuredClone(presentation);

beforeAll(async () => {
  const state = new AgentState({ agentDepth: config.agentDepth, orgDepth: config.orgDepth });
  const id = identityField(agent.publicKey);
  for (let i = 0; i < 3; i++) state.apply({ record: { agent: id, org: 100n + BigInt(i), epoch: 20_000n, kept: 30n, broken: 1n, violations: 0n, scope: 0n, salt: 7n + BigInt(i) }, orgIndex: i });
  provenScore = Number(evidenceScore(state.lookup(id)!.leaf.summary, POLICY_V2)) - 10;
  const context = { nonce: 'nonce-1', audience: 'https://gateway.example', expiry: T0 / 1000 + 600 };
  const art = await loadCircuitArtifacts('test', 'threshold', { quiet: true });
  batchVkey = (await loadCircuitArtifacts('test', 'batch-update', { quiet: true })).vkey;
  const prover = await Groth16Prover.fromFiles({ circuit: 'threshold', wasmPath: art.wasmPath, zkeyPath: art.zkeyPath, publicNames: THRESHOLD_PUBLIC_SIGNALS });
  const { input } = buildThresholdInput(state, { agent: id, minScore: BigInt(provenScore), minRecords: 3n, minOrgs: 2n, contextHash: contextHash(context) }, policyHash(POLICY_V2));
  const { proof, publicSignals } = await prover.prove(input);
  const body = { sequence: 4, config: 'test', stateRoot: state.root.toString(), chain: '1', logSize: 3, policyHash: policyHash(POLICY_V2).toString(), time: T0 - 60_000 };
  const checkpoint = { body, signer: aggregatorDid, signature: Buffer.from(sign(signingBytes('checkpoint', body), aggregator.secretKey)).toString('hex') };
  presentation = { version: 1, circuit: 'threshold', config: 'test', agent: agentDid, proof, publicSignals, context, checkpoint };
}, 120_000);

describe('verifyPresentation', () => {
  it('accepts an honest presentation, with its tier, and serves the same decision from the cache', async () => {
    const v = verifier();
    const r = await v.verifyPresentation(presentation, expectations({ minRecords: 3, minOrgs: 2 }));
    expect(r).toMatchObject({ ok: true, reason: 'ok', provenMinScore: provenScore, checkpoint: { sequence: 4, signer: aggregatorDid } });
    expect(r.tier).toBe(provenScore >= 700 ? 'trusted' : 'standard');
    const again = await v.verifyPresentation(clone(), expectations({ minRecords: 3, minOrgs: 2 }));
    expect(again).toMatchObject({ ok: true, cached: true });
    // A lower requirement than proven is fine too.
    expect((await v.verifyPresentation(presentation, expectations({ minScore: 100 }))).ok).toBe(true);
  });

  it('untrusted aggregator key', async () => {
    const other = createVerifier({ aggregatorKeys: [didFromPublicKey(generateKeyPair().publicKey)], now: () => T0 });
    expect((await other.verifyPresentation(presentation, expectations())).reason).toBe('untrusted_aggregator');
  });

  it('altered checkpoint', async () => {
    for (const edit of [(p: any) => (p.checkpoint.body.time += 1), (p: any) => (p.checkpoint.body.stateRoot = '5'), (p: any) => (p.checkpoint.body.sequence = 5)]) {
      const p = clone();
      edit(p);
      expect((await verifier().verifyPresentation(p, expectations())).reason).toBe('bad_checkpoint_signature');
    }
  });

  it('another agent', async () => {
    const r = await verifier().verifyPresentation(presentation, expectations({ agent: didFromPublicKey(generateKeyPair().publicKey) }));
    expect(r.reason).toBe('agent_mismatch');
  });

  it('a lower minimum than asked, fewer records or organisations than asked', async () => {
    expect((await verifier().verifyPresentation(presentation, expectations({ minScore: provenScore + 1 }))).reason).toBe('score_below_expected');
    expect((await verifier().verifyPresentation(presentation, expectations({ minRecords: 4 }))).reason).toBe('records_below_expected');
    expect((await verifier().verifyPresentation(presentation, expectations({ minOrgs: 3 }))).reason).toBe('orgs_below_expected');
  });

  it('an expired presentation, a stale checkpoint, another context', async () => {
    expect((await verifier(T0 + 601_000).verifyPresentation(presentation, expectations())).reason).toBe('expired');
    expect((await verifier().verifyPresentation(presentation, expectations({ maxAgeS: 30 }))).reason).toBe('stale_checkpoint');
    expect((await verifier().verifyPresentation(presentation, expectations({ context: { nonce: 'nonce-2', audience: 'https://gateway.example' } }))).reason).toBe('context_mismatch');
    expect((await verifier().verifyPresentation(presentation, expectations({ context: { nonce: 'nonce-1', audience: 'https://evil.example' } }))).reason).toBe('context_mismatch');
    const p = clone();
    p.context.expiry += 1;
    expect((await verifier().verifyPresentation(p, expectations())).reason).toBe('context_mismatch');
  });

  it('another policy, another root, an altered proof', async () => {
    const p = clone();
    p.publicSignals[5] = String(BigInt(p.publicSignals[5]) + 1n);
    expect((await verifier().verifyPresentation(p, expectations())).reason).toBe('policy_mismatch');
    const q = clone();
    q.publicSignals[0] = String(BigInt(q.publicSignals[0]) + 1n);
    expect((await verifier().verifyPresentation(q, expectations())).reason).toBe('root_mismatch');
    const r = clone();
    r.proof.pi_a = presentation.proof.pi_c;
    expect((await verifier().verifyPresentation(r, expectations())).reason).toBe('invalid_proof');
    // The score signal raised by one: consistent with the expectations, but the proof no longer verifies.
    const s = clone();
    s.publicSignals[2] = String(provenScore + 1);
    expect((await verifier().verifyPresentation(s, expectations())).reason).toBe('invalid_proof');
  });

  it('a public signal + r or truncated signals are malformed (RangeError)', async () => {
    const p = clone();
    p.publicSignals[1] = String(BigInt(p.publicSignals[1]) + FIELD_MODULUS);
    await expect(verifier().verifyPresentation(p, expectations())).rejects.toThrow(RangeError);
    const q = clone();
    q.publicSignals = q.publicSignals.slice(0, 6);
    await expect(verifier().verifyPresentation(q, expectations())).rejects.toThrow(RangeError);
  });

  it('accepts only the listed policies, each under its own keys', async () => {
    expect(ACCEPTED_POLICY_HASHES).toContain(policyHash(POLICY_V2).toString());
    // A v2 proof passed off as a v1 one (signal and a re-signed checkpoint): checked under the
    // v1 key, it does not verify.
    const v1 = ACCEPTED_POLICY_HASHES[0]!;
    const p = clone();
    p.publicSignals[5] = v1;
    p.checkpoint.body.policyHash = v1;
    p.checkpoint.signature = Buffer.from(sign(signingBytes('checkpoint', p.checkpoint.body), aggregator.secretKey)).toString('hex');
    expect((await verifier().verifyPresentation(p, expectations())).reason).toBe('invalid_proof');
    // The signal and the checkpoint must name the same policy, and a listed one.
    const q = clone();
    q.publicSignals[5] = v1;
    expect((await verifier().verifyPresentation(q, expectations())).reason).toBe('policy_mismatch');
  });

  it("another circuit's key is refused, and an unknown configuration fails", async () => {
    expect(() => createVerifier({ aggregatorKeys: [aggregatorDid], verificationKeys: { test: batchVkey } })).toThrow(RangeError);
    const p = clone();
    p.config = 'production';
    expect((await verifier().verifyPresentation(p, expectations())).reason).toBe('unknown_configuration');
  });

  it('throws TypeError or RangeError on hostile input', async () => {
    const v = verifier();
    for (const bad of [null, 5, 'x', [], Symbol('p')]) await expect(v.verifyPresentation(bad, expectations())).rejects.toThrow(TypeError);
    await expect(v.verifyPresentation(presentation, { ...expectations(), minScore: 1001 })).rejects.toThrow(RangeError);
    await expect(v.verifyPresentation(presentation, { ...expectations(), minScore: NaN })).rejects.toThrow(TypeError);
    await expect(v.verifyPresentation({ ...presentation, version: 2 }, expectations())).rejects.toThrow(RangeError);
    expect(() => createVerifier({ aggregatorKeys: [] })).toThrow(TypeError);
    expect(() => createVerifier({ aggregatorKeys: ['did:web:x'] })).toThrow(RangeError);
  });
});

describe('policy-gate adapters', () => {
  it('getTrustScore is the proven minimum on 0..1, and 0 without a valid presentation', async () => {
    const { createTrustProvider } = await import('../../src/verifier/gate.ts');
    const getTrustScore = createTrustProvider({
      verifier: verifier(),
      presentationOf: (a) => (a === agentDid ? presentation : undefined),
      expectationsFor: () => ({ context: { nonce: 'nonce-1', audience: 'https://gateway.example' }, maxAgeS: 3600 }),
    });
    expect(await getTrustScore(agentDid)).toBe(provenScore / 1000);
    expect(await getTrustScore(didFromPublicKey(generateKeyPair().publicKey))).toBe(0);
    const wrongContext = createTrustProvider({ verifier: verifier(), presentationOf: () => presentation, expectationsFor: () => ({ context: { nonce: 'other', audience: 'x' }, maxAgeS: 3600 }) });
    expect(await wrongContext(agentDid)).toBe(0);
  });

  it('checkTrustGate allows the tiers the proof reaches and no higher', async () => {
    const { checkTrustGate } = await import('../../src/verifier/gate.ts');
    const { tier } = await import('../../src/crypto/score-policy.ts');
    const e = { agent: agentDid, context: { nonce: 'nonce-1', audience: 'https://gateway.example' }, maxAgeS: 3600 };
    const reached = tier(BigInt(provenScore));
    expect(await checkTrustGate(verifier(), presentation, reached, e)).toEqual({ allowed: true, reason: 'ok' });
    expect(await checkTrustGate(verifier(), presentation, 'untrusted', e)).toEqual({ allowed: true, reason: 'ok' });
    expect(await checkTrustGate(verifier(), presentation, 'verified partner', e)).toEqual({ allowed: false, reason: 'score_below_expected' });
    await expect(checkTrustGate(verifier(), presentation, 'gold' as never, e)).rejects.toThrow(RangeError);
  });
});

describe('independent check', () => {
  it("the presentation's proof verifies with the snarkjs command line and the committed verification key", async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { execFileSync } = await import('node:child_process');
    const d = await mkdtemp(`${tmpdir()}/zktrust-snarkjs-`);
    try {
      await writeFile(`${d}/public.json`, JSON.stringify(presentation.publicSignals));
      await writeFile(`${d}/proof.json`, JSON.stringify(presentation.proof));
      const cli = `${ROOT}/node_modules/snarkjs/build/cli.cjs`;
      const out = execFileSync(process.execPath, [cli, 'groth16', 'verify', `${ROOT}/artifacts/test/threshold.vkey.json`, `${d}/public.json`, `${d}/proof.json`], { encoding: 'utf8' });
      expect(out).toMatch(/OK!/);
      await writeFile(`${d}/public.json`, JSON.stringify(presentation.publicSignals.map((x: string, i: number) => (i === 2 ? String(Number(x) + 1) : x))));
      expect(() => execFileSync(process.execPath, [cli, 'groth16', 'verify', `${ROOT}/artifacts/test/threshold.vkey.json`, `${d}/public.json`, `${d}/proof.json`], { encoding: 'utf8', stdio: 'pipe' })).toThrow();
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('browser bundle', () => {
  it('bundles src/verifier for the browser without Node built-ins', async () => {
    const r = await build({ entryPoints: [`${ROOT}/src/verifier/index.ts`], bundle: true, platform: 'browser', format: 'esm', write: false, logLevel: 'silent', metafile: true });
    const inputs = Object.keys(r.metafile.inputs);
    expect(inputs.some((f) => f.includes('src/verifier/presentation.ts'))).toBe(true);
    expect(inputs.filter((f) => /^node:|(^|\/)(fs|os|child_process|worker_threads)$/.test(f))).toEqual([]);
    expect(r.outputFiles[0]!.text).not.toMatch(/from ["']node:/);
  });
});
