/**
 * The presentation verifier on real threshold proofs (test configuration), under the
 * repository's development keys and under a local key set made as a service makes it: an
 * honest presentation passes and is cached; each rejection reason has its own test, the key
 * checks included (development keys refused by default, whatever mode they claim; a key set
 * that does not hash to the checkpoint's; a swapped verification key; a mode below the one
 * required; an unpublished phase 1; pinned key sets; key documents signed by someone else);
 * a malformed presentation is `malformed`, never an exception; the caller's own bad options
 * and expectations throw. Its browser bundle: verifier-bundle.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { signingBytes } from '../../src/crypto/canonical.ts';
import { generateKeyPair, sign } from '../../src/crypto/ed25519.ts';
import { FIELD_MODULUS } from '../../src/crypto/field.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import { vkeyHash, type KeySetDescriptor } from '../../src/crypto/key-set.ts';
import { ACCEPTED_POLICY_HASHES, POLICY_V2, policyHash } from '../../src/crypto/score-policy.ts';
import type { KeySetFile } from '../../src/keys/key-set-dir.ts';
import { BUNDLED_KEYS, createVerifier, type Expectations, type VerifierOptions } from '../../src/verifier/index.ts';
import { ROOT } from '../helpers/circuit.ts';
import { T0, aggregator, aggregatorDid, agentDid, checkpoint, expectationsOf, presentationUnder, provePresentations } from '../helpers/presentations.ts';

let dev: any; // a presentation under the repository's development keys
let local: any; // the same statement under a local key set
let localSet: KeySetFile;
let provenScore: number;

const expectations = (over: Partial<Expectations> = {}) => expectationsOf(provenScore, over);
const verifier = (over: Partial<VerifierOptions> = {}, now = T0) => createVerifier({ aggregatorKeys: [aggregatorDid], now: () => now, ...over });
const insecure = (now = T0) => verifier({ allowInsecureKeys: true }, now);

beforeAll(async () => {
  ({ dev, local, localSet, provenScore } = await provePresentations());
}, 180_000);

describe('verifyPresentation: keys', () => {
  it('accepts local keys by default and says who could forge; refuses them when a ceremony is required', async () => {
    const r = await verifier().verifyPresentation(local, expectations({ minRecords: 3, minOrgs: 2 }));
    expect(r).toMatchObject({ ok: true, reason: 'ok', provenMinScore: provenScore, keyMode: 'local', keySetHash: localSet.keySetHash, forgeableBy: 'operator', checkpoint: { sequence: 4, signer: aggregatorDid } });
    expect(await verifier({ requireKeyMode: 'ceremony' }).verifyPresentation(local, expectations())).toMatchObject({ ok: false, reason: 'key_mode_not_accepted', keyMode: 'local' });
  });

  it('refuses development keys by default, accepts them only when allowed', async () => {
    expect(await verifier().verifyPresentation(dev, expectations())).toEqual({ ok: false, reason: 'insecure_keys', keyMode: 'dev', keySetHash: BUNDLED_KEYS.test!.keySetHash, forgeableBy: 'anyone' });
    expect(await verifier({ requireKeyMode: 'ceremony' }).verifyPresentation(dev, expectations())).toMatchObject({ reason: 'insecure_keys' });
    expect(await insecure().verifyPresentation(dev, expectations())).toMatchObject({ ok: true, keyMode: 'dev', forgeableBy: 'anyone' });
  });

  it('a development key claimed as local is still a development key', async () => {
    // An aggregator signs a checkpoint under a "local" key set whose threshold key is the development key.
    const disguised: KeySetDescriptor = { ...localSet.descriptor, circuits: { ...localSet.descriptor.circuits, threshold: { ...localSet.descriptor.circuits.threshold!, vkey: vkeyHash(BUNDLED_KEYS.test!.threshold) } } };
    const p = presentationUnder(disguised, BUNDLED_KEYS.test!.threshold, dev.proof, dev.publicSignals, dev.checkpoint.body.stateRoot);
    expect(await verifier().verifyPresentation(p, expectations())).toMatchObject({ ok: false, reason: 'insecure_keys', keyMode: 'dev' });
    // Written with other projective coordinates of the same points: refused as malformed.
    const vk = structuredClone(BUNDLED_KEYS.test!.threshold) as any;
    vk.vk_alpha_1 = [vk.vk_alpha_1[0], vk.vk_alpha_1[1], '2'];
    const again: KeySetDescriptor = { ...disguised, circuits: { ...disguised.circuits, threshold: { ...disguised.circuits.threshold!, vkey: vkeyHash(vk) } } };
    expect(await verifier().verifyPresentation(presentationUnder(again, vk, dev.proof, dev.publicSignals, dev.checkpoint.body.stateRoot), expectations())).toEqual({ ok: false, reason: 'malformed' });
  });

  it('a key set that is not the checkpoint\'s, and a swapped verification key, are refused', async () => {
    // The development key set's descriptor under the local key set's checkpoint.
    const a = structuredClone(local);
    a.keySet = BUNDLED_KEYS.test!.descriptor;
    a.verificationKey = BUNDLED_KEYS.test!.threshold;
    expect((await insecure().verifyPresentation(a, expectations())).reason).toBe('key_set_mismatch');
    // The development verification key under the local descriptor and checkpoint.
    const b = structuredClone(local);
    b.verificationKey = BUNDLED_KEYS.test!.threshold;
    expect((await insecure().verifyPresentation(b, expectations())).reason).toBe('key_set_mismatch');
    // The checkpoint's key mode altered: its signature breaks.
    const c = structuredClone(local);
    c.checkpoint.body.keyMode = 'ceremony';
    expect((await verifier().verifyPresentation(c, expectations())).reason).toBe('bad_checkpoint_signature');
    // A checkpoint signed with a mode other than its key set's.
    const d = structuredClone(local);
    d.checkpoint = checkpoint(local.checkpoint.body.stateRoot, localSet.keySetHash, 'ceremony');
    expect((await verifier().verifyPresentation(d, expectations())).reason).toBe('key_set_mismatch');
  });

  it('key documents: presentations need not carry their keys; a document not signed by a trusted aggregator is refused', async () => {
    const body = { aggregator: aggregatorDid, keySetHash: localSet.keySetHash, descriptor: localSet.descriptor, verificationKeys: localSet.verificationKeys, fromSequence: 1 };
    const doc = { body, signer: aggregatorDid, signature: Buffer.from(sign(signingBytes('key-document', body), aggregator.secretKey)).toString('hex') };
    const { keySet: _k, verificationKey: _v, ...bare } = local;
    expect((await verifier().verifyPresentation(bare, expectations())).reason).toBe('unknown_key_set');
    expect(await verifier({ keyDocuments: [doc] }).verifyPresentation(bare, expectations())).toMatchObject({ ok: true, keyMode: 'local' });
    const stranger = generateKeyPair();
    const forged = { body, signer: aggregatorDid, signature: Buffer.from(sign(signingBytes('key-document', body), stranger.secretKey)).toString('hex') };
    expect(() => verifier({ keyDocuments: [forged] })).toThrow(/signature does not verify/);
    const byStranger = { body: { ...body, aggregator: didFromPublicKey(stranger.publicKey) }, signer: didFromPublicKey(stranger.publicKey), signature: '' };
    byStranger.signature = Buffer.from(sign(signingBytes('key-document', byStranger.body), stranger.secretKey)).toString('hex');
    expect(() => verifier({ keyDocuments: [byStranger] })).toThrow(/not signed by a trusted aggregator/);
    const swapped = { ...body, verificationKeys: { ...body.verificationKeys, threshold: BUNDLED_KEYS.test!.threshold } };
    const swappedDoc = { body: swapped, signer: aggregatorDid, signature: Buffer.from(sign(signingBytes('key-document', swapped), aggregator.secretKey)).toString('hex') };
    expect(() => verifier({ keyDocuments: [swappedDoc] })).toThrow(/does not hash to the descriptor/);
  });

  it('pinned key sets, and ceremony keys from a phase 1 that is not published', async () => {
    expect((await verifier({ trustedKeySets: ['00'.repeat(32)] }).verifyPresentation(local, expectations())).reason).toBe('untrusted_key_set');
    expect((await verifier({ trustedKeySets: [localSet.keySetHash] }).verifyPresentation(local, expectations())).ok).toBe(true);
    // The local keys presented as a ceremony's over a phase 1 nobody published.
    const ptau = 'ab'.repeat(64);
    const claimed: KeySetDescriptor = { ...localSet.descriptor, mode: 'ceremony', phase1: { kind: 'ptau', blake2b: ptau, power: 16 } };
    const p = presentationUnder(claimed, localSet.verificationKeys.threshold, local.proof, local.publicSignals, local.checkpoint.body.stateRoot);
    expect(await verifier({ requireKeyMode: 'ceremony' }).verifyPresentation(p, expectations())).toMatchObject({ ok: false, reason: 'unpublished_phase1', keyMode: 'ceremony' });
    expect(await verifier({ requireKeyMode: 'ceremony', trustedPtauHashes: [ptau] }).verifyPresentation(p, expectations())).toMatchObject({ ok: true, keyMode: 'ceremony', forgeableBy: 'colluding-participants' });
  });

  it('accepts only the listed policies, each under its own keys', async () => {
    expect(ACCEPTED_POLICY_HASHES).toContain(policyHash(POLICY_V2).toString());
    const v1 = ACCEPTED_POLICY_HASHES[0]!;
    // The signal and the checkpoint must name the key set's policy.
    const q = structuredClone(local);
    q.publicSignals[5] = v1;
    expect((await verifier().verifyPresentation(q, expectations())).reason).toBe('policy_mismatch');
    const r = structuredClone(local);
    r.publicSignals[5] = v1;
    r.checkpoint = checkpoint(local.checkpoint.body.stateRoot, localSet.keySetHash, 'local', { policyHash: v1 });
    expect((await verifier().verifyPresentation(r, expectations())).reason).toBe('policy_mismatch');
  });
});

describe('verifyPresentation: the statement', () => {
  it('accepts an honest presentation, with its tier, and serves the same decision from the cache', async () => {
    const v = verifier();
    const r = await v.verifyPresentation(local, expectations({ minRecords: 3, minOrgs: 2 }));
    expect(r.tier).toBe(provenScore >= 700 ? 'trusted' : 'standard');
    expect(await v.verifyPresentation(structuredClone(local), expectations({ minRecords: 3, minOrgs: 2 }))).toMatchObject({ ok: true, cached: true });
    // A lower requirement than proven is fine too.
    expect((await v.verifyPresentation(local, expectations({ minScore: 100 }))).ok).toBe(true);
  });

  it('untrusted aggregator key', async () => {
    const other = createVerifier({ aggregatorKeys: [didFromPublicKey(generateKeyPair().publicKey)], now: () => T0 });
    expect((await other.verifyPresentation(local, expectations())).reason).toBe('untrusted_aggregator');
  });

  it('altered checkpoint', async () => {
    for (const edit of [(p: any) => (p.checkpoint.body.time += 1), (p: any) => (p.checkpoint.body.stateRoot = '5'), (p: any) => (p.checkpoint.body.sequence = 5), (p: any) => (p.checkpoint.body.keySetHash = '0'.repeat(64))]) {
      const p = structuredClone(local);
      edit(p);
      expect((await verifier().verifyPresentation(p, expectations())).reason).toBe('bad_checkpoint_signature');
    }
  });

  it('another agent', async () => {
    expect((await verifier().verifyPresentation(local, expectations({ agent: didFromPublicKey(generateKeyPair().publicKey) }))).reason).toBe('agent_mismatch');
  });

  it('a lower minimum than asked, fewer records or organisations than asked', async () => {
    expect((await verifier().verifyPresentation(local, expectations({ minScore: provenScore + 1 }))).reason).toBe('score_below_expected');
    expect((await verifier().verifyPresentation(local, expectations({ minRecords: 4 }))).reason).toBe('records_below_expected');
    expect((await verifier().verifyPresentation(local, expectations({ minOrgs: 3 }))).reason).toBe('orgs_below_expected');
  });

  it('an expired presentation, a stale checkpoint, another context', async () => {
    expect((await verifier({}, T0 + 601_000).verifyPresentation(local, expectations())).reason).toBe('expired');
    expect((await verifier().verifyPresentation(local, expectations({ maxAgeS: 30 }))).reason).toBe('stale_checkpoint');
    expect((await verifier().verifyPresentation(local, expectations({ context: { nonce: 'nonce-2', audience: 'https://gateway.example' } }))).reason).toBe('context_mismatch');
    expect((await verifier().verifyPresentation(local, expectations({ context: { nonce: 'nonce-1', audience: 'https://evil.example' } }))).reason).toBe('context_mismatch');
    const p = structuredClone(local);
    p.context.expiry += 1;
    expect((await verifier().verifyPresentation(p, expectations())).reason).toBe('context_mismatch');
  });

  it('another policy, another root, an altered proof, a proof under the other key', async () => {
    const p = structuredClone(local);
    p.publicSignals[5] = String(BigInt(p.publicSignals[5]) + 1n);
    expect((await verifier().verifyPresentation(p, expectations())).reason).toBe('policy_mismatch');
    const q = structuredClone(local);
    q.publicSignals[0] = String(BigInt(q.publicSignals[0]) + 1n);
    expect((await verifier().verifyPresentation(q, expectations())).reason).toBe('root_mismatch');
    const r = structuredClone(local);
    r.proof.pi_a = local.proof.pi_c;
    expect((await verifier().verifyPresentation(r, expectations())).reason).toBe('invalid_proof');
    // The score signal raised by one: consistent with the expectations, but the proof no longer verifies.
    const s = structuredClone(local);
    s.publicSignals[2] = String(provenScore + 1);
    expect((await verifier().verifyPresentation(s, expectations())).reason).toBe('invalid_proof');
    // The development key's proof of the same statement under the local key set.
    const t = structuredClone(local);
    t.proof = dev.proof;
    expect((await verifier().verifyPresentation(t, expectations())).reason).toBe('invalid_proof');
  });

  it('an unknown configuration', async () => {
    const p = structuredClone(local);
    p.config = 'production';
    expect((await verifier().verifyPresentation(p, expectations())).reason).toBe('unknown_configuration');
  });

  it('malformed presentations (a stranger\'s input) are `malformed`, never an exception', async () => {
    const edits: Array<(p: any) => unknown> = [
      (p) => (p.publicSignals[1] = String(BigInt(p.publicSignals[1]) + FIELD_MODULUS)), // + r
      (p) => (p.publicSignals = p.publicSignals.slice(0, 6)), // truncated
      (p) => p.publicSignals.push('1'),
      (p) => (p.publicSignals[0] = '-1'),
      (p) => (p.publicSignals[0] = 5),
      (p) => (p.proof.pi_a[0] = (2n ** 256n).toString()), // outside the base field
      (p) => (p.proof.pi_b = 'x'),
      (p) => (p.proof = null),
      (p) => (p.version = 3),
      (p) => (p.circuit = 'batch-update'),
      (p) => delete p.checkpoint,
      (p) => (p.checkpoint.signature = 'zz'),
      (p) => (p.checkpoint.body.sequence = -1),
      (p) => (p.context.expiry = 2 ** 41),
      (p) => (p.keySet.mode = 'trusted'),
      (p) => (p.keySet.circuits = {}),
      (p) => (p.verificationKey = 'vk'),
      (p) => (p.agent = Symbol('a')),
      (p) => (p.context = [1]),
    ];
    for (const [i, edit] of edits.entries()) {
      const p = structuredClone(local);
      edit(p);
      expect(await verifier().verifyPresentation(p, expectations()), `edit ${i}`).toMatchObject({ ok: false });
      expect((await verifier().verifyPresentation(p, expectations())).reason, `edit ${i}`).toMatch(/^(malformed|bad_checkpoint_signature|key_set_mismatch)$/);
    }
    for (const bad of [null, 5, 'x', [], Symbol('p'), undefined]) expect(await verifier().verifyPresentation(bad, expectations())).toEqual({ ok: false, reason: 'malformed' });
  });

  it("the caller's own mistakes throw TypeError or RangeError", async () => {
    const v = verifier();
    await expect(v.verifyPresentation(local, { ...expectations(), minScore: 1001 })).rejects.toThrow(RangeError);
    await expect(v.verifyPresentation(local, { ...expectations(), minScore: NaN })).rejects.toThrow(TypeError);
    await expect(v.verifyPresentation(local, { ...expectations(), agent: 'did:web:x' })).rejects.toThrow(RangeError);
    await expect(v.verifyPresentation(local, null as never)).rejects.toThrow(TypeError);
    // Even with a presentation that is itself malformed: the caller's mistake comes first.
    await expect(v.verifyPresentation(null, { ...expectations(), context: { nonce: '', audience: 'x' } })).rejects.toThrow(RangeError);
    expect(() => createVerifier({ aggregatorKeys: [] })).toThrow(TypeError);
    expect(() => createVerifier({ aggregatorKeys: ['did:web:x'] })).toThrow(RangeError);
    expect(() => createVerifier({ aggregatorKeys: [aggregatorDid], requireKeyMode: 'dev' as never })).toThrow(RangeError);
    expect(() => createVerifier({ aggregatorKeys: [aggregatorDid], allowInsecureKeys: 'yes' as never })).toThrow(TypeError);
    expect(() => createVerifier({ aggregatorKeys: [aggregatorDid], trustedKeySets: ['abc'] })).toThrow(RangeError);
    expect(() => createVerifier({ aggregatorKeys: [aggregatorDid], keyDocuments: [{}] })).toThrow(TypeError);
  });
});

describe('policy-gate adapters', () => {
  it('getTrustScore is the proven minimum on 0..1, and 0 without a valid presentation or under development keys', async () => {
    const { createTrustProvider } = await import('../../src/verifier/gate.ts');
    const make = (v = verifier(), p: unknown = local) =>
      createTrustProvider({ verifier: v, presentationOf: (a) => (a === agentDid ? p : undefined), expectationsFor: () => ({ context: { nonce: 'nonce-1', audience: 'https://gateway.example' }, maxAgeS: 3600 }) });
    expect(await make()(agentDid)).toBe(provenScore / 1000);
    expect(await make()(didFromPublicKey(generateKeyPair().publicKey))).toBe(0);
    expect(await make(verifier(), dev)(agentDid)).toBe(0);
    expect(await make(insecure(), dev)(agentDid)).toBe(provenScore / 1000);
    const wrongContext = createTrustProvider({ verifier: verifier(), presentationOf: () => local, expectationsFor: () => ({ context: { nonce: 'other', audience: 'x' }, maxAgeS: 3600 }) });
    expect(await wrongContext(agentDid)).toBe(0);
  });

  it('checkTrustGate allows the tiers the proof reaches and no higher, and refuses development keys by default', async () => {
    const { checkTrustGate } = await import('../../src/verifier/gate.ts');
    const { tier } = await import('../../src/crypto/score-policy.ts');
    const e = { agent: agentDid, context: { nonce: 'nonce-1', audience: 'https://gateway.example' }, maxAgeS: 3600 };
    const reached = tier(BigInt(provenScore));
    expect(await checkTrustGate(verifier(), local, reached, e)).toEqual({ allowed: true, reason: 'ok' });
    expect(await checkTrustGate(verifier(), local, 'untrusted', e)).toEqual({ allowed: true, reason: 'ok' });
    expect(await checkTrustGate(verifier(), local, 'verified partner', e)).toEqual({ allowed: false, reason: 'score_below_expected' });
    expect(await checkTrustGate(verifier(), dev, 'untrusted', e)).toEqual({ allowed: false, reason: 'insecure_keys' });
    await expect(checkTrustGate(verifier(), local, 'gold' as never, e)).rejects.toThrow(RangeError);
  });
});

describe('independent check', () => {
  it("the presentation's proof verifies with the snarkjs command line and its key set's verification key", async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { execFileSync } = await import('node:child_process');
    const d = await mkdtemp(`${tmpdir()}/zktrust-snarkjs-`);
    try {
      await writeFile(`${d}/public.json`, JSON.stringify(local.publicSignals));
      await writeFile(`${d}/proof.json`, JSON.stringify(local.proof));
      await writeFile(`${d}/vkey.json`, JSON.stringify(local.verificationKey));
      const cli = `${ROOT}/node_modules/snarkjs/build/cli.cjs`;
      const out = execFileSync(process.execPath, [cli, 'groth16', 'verify', `${d}/vkey.json`, `${d}/public.json`, `${d}/proof.json`], { encoding: 'utf8' });
      expect(out).toMatch(/OK!/);
      await writeFile(`${d}/public.json`, JSON.stringify(local.publicSignals.map((x: string, i: number) => (i === 2 ? String(Number(x) + 1) : x))));
      expect(() => execFileSync(process.execPath, [cli, 'groth16', 'verify', `${d}/vkey.json`, `${d}/public.json`, `${d}/proof.json`], { encoding: 'utf8', stdio: 'pipe' })).toThrow();
    } finally {
      await rm(d, { recursive: true, force: true });
    }
  }, 60_000);
});
