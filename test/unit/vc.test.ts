/**
 * Presentations as W3C Verifiable Presentations (src/interop/vc.ts), on a real threshold
 * proof (test configuration, local keys): the round trip is exact and both forms verify; the
 * VP is JSON-LD whose every term the VC 2.0 context (from @digitalbazaar/credentials-context,
 * served by a local document loader: nothing is fetched) or the zktrust context defines, so
 * it expands in jsonld's safe mode to the VC 2.0 IRIs; each tampered member is refused with
 * its reason; 500 random alterations never make the verifier throw.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { contexts } from '@digitalbazaar/credentials-context';
import fc from 'fast-check';
import jsonld from 'jsonld';
import { beforeAll, describe, expect, it } from 'vitest';
import { signingBytes } from '../../src/crypto/canonical.ts';
import { generateKeyPair, sign } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import { VC_CONTEXT_V2, ZKTRUST_CONTEXT_V1, ZKTRUST_CONTEXT_V1_DOCUMENT, fromVerifiablePresentation, isVerifiablePresentation, toVerifiablePresentation } from '../../src/interop/vc.ts';
import { createVerifier, type ReasonCode } from '../../src/verifier/index.ts';
import { ROOT } from '../helpers/circuit.ts';
import { junk } from '../helpers/hostile.ts';
import { T0, aggregator, aggregatorDid, agentDid, checkpoint, expectationsOf, provePresentations } from '../helpers/presentations.ts';

let local: any;
let provenScore: number;
let localSet: any;

const verifier = (opts: { keyDocuments?: unknown[] } = {}) => createVerifier({ aggregatorKeys: [aggregatorDid], now: () => T0, ...opts });
const expectations = () => expectationsOf(provenScore);
const stranger = () => didFromPublicKey(generateKeyPair().publicKey);
const VC = 'https://www.w3.org/2018/credentials#';
const SEC = 'https://w3id.org/security#';
const ZK = 'https://zktrust.dev/vocab#';

/** A JSON-LD document loader that serves the two contexts from memory and refuses every other URL. */
async function documentLoader(url: string) {
  const document = url === ZKTRUST_CONTEXT_V1 ? ZKTRUST_CONTEXT_V1_DOCUMENT : contexts.get(url);
  if (document === undefined) throw new Error(`no network: ${url}`);
  return { contextUrl: null, documentUrl: url, document };
}
const expand = (doc: unknown) => jsonld.expand(doc, { documentLoader, safe: true });

beforeAll(async () => {
  ({ local, provenScore, localSet } = await provePresentations());
}, 180_000);

describe('the JSON-LD contexts', () => {
  it('@digitalbazaar/credentials-context 3.2.0 holds the VC 2.0 context, with no @vocab', () => {
    const v2 = contexts.get(VC_CONTEXT_V2) as { '@context': Record<string, any> };
    expect(v2['@context']['@protected']).toBe(true);
    expect(v2['@context'].VerifiablePresentation['@id']).toBe(`${VC}VerifiablePresentation`);
    expect(v2['@context'].VerifiablePresentation['@context'].holder['@id']).toBe(`${VC}holder`);
    expect(v2['@context']['@vocab']).toBeUndefined();
  });

  it('the published zktrust context is the file, defines every term by a full IRI, and has no @vocab', () => {
    const file = JSON.parse(readFileSync(join(ROOT, 'src/interop/contexts/zktrust-v1.json'), 'utf8'));
    expect(ZKTRUST_CONTEXT_V1_DOCUMENT).toEqual(file);
    expect(Object.isFrozen(ZKTRUST_CONTEXT_V1_DOCUMENT['@context'])).toBe(true);
    const terms: Array<[string, unknown]> = [];
    const walk = (ctx: Record<string, unknown>) => {
      expect(ctx['@vocab']).toBeUndefined();
      for (const [k, v] of Object.entries(ctx)) {
        if (k.startsWith('@')) continue;
        terms.push([k, v]);
        if (typeof v === 'object' && v !== null && '@context' in v) walk((v as { '@context': Record<string, unknown> })['@context']);
      }
    };
    walk(file['@context']);
    const iri = (v: unknown) => (typeof v === 'string' ? v : (v as { '@id': string })['@id']);
    expect(terms.filter(([, v]) => !/^(https?:\/\/|@id$|@type$)/.test(iri(v)))).toEqual([]);
    expect(terms.length).toBeGreaterThanOrEqual(20);
  });
});

describe('toVerifiablePresentation / fromVerifiablePresentation', () => {
  it('round trip: presentation -> VP -> the identical presentation; both forms verify alike', async () => {
    const vp = toVerifiablePresentation(local);
    expect(isVerifiablePresentation(vp)).toBe(true);
    expect(isVerifiablePresentation(local)).toBe(false);
    const back = fromVerifiablePresentation(vp);
    expect(back).toEqual(local);
    expect(JSON.stringify(back)).toBe(JSON.stringify(local));
    // The shape of the brief: holder, issuer, subject, validity, challenge and domain.
    const credential = vp.verifiableCredential[0];
    expect(vp).toMatchObject({ '@context': [VC_CONTEXT_V2, ZKTRUST_CONTEXT_V1], type: ['VerifiablePresentation'], holder: agentDid });
    expect(credential).toMatchObject({ issuer: aggregatorDid, validFrom: new Date(T0 - 60_000).toISOString().replace('.000Z', 'Z'), validUntil: new Date(local.context.expiry * 1000).toISOString().replace('.000Z', 'Z') });
    expect(credential.credentialSubject).toEqual({ id: agentDid, minScore: provenScore, tier: 'trusted', minRecords: 3, minOrgs: 2, scorePolicy: local.publicSignals[5] });
    expect(vp.proof).toMatchObject({ type: 'ZkTrustThresholdProof', challenge: local.context.nonce, domain: local.context.audience, groth16Proof: local.proof, checkpoint: local.checkpoint, keySet: local.keySet });
    // The VP shares nothing with the presentation.
    vp.proof.publicSignals[0] = '1';
    expect(local.publicSignals[0]).not.toBe('1');
    const v = verifier();
    const plain = await v.verifyPresentation(local, expectations());
    const wrapped = await verifier().verifyPresentation(toVerifiablePresentation(local), expectations());
    expect(plain).toMatchObject({ ok: true, reason: 'ok', provenMinScore: provenScore, tier: 'trusted', keyMode: 'local' });
    expect(wrapped).toEqual(plain);
    expect(await v.verifyPresentation(back, expectations())).toMatchObject({ ok: true, cached: true });
  });

  it('a presentation without its keys round-trips too, and verifies against an aggregator-signed key document', async () => {
    const { keySet: _k, verificationKey: _v, ...bare } = structuredClone(local);
    const vp = toVerifiablePresentation(bare);
    expect(Object.keys(vp.proof)).not.toContain('keySet');
    expect(fromVerifiablePresentation(vp)).toEqual(bare);
    expect((await verifier().verifyPresentation(vp, expectations())).reason).toBe('unknown_key_set');
    const body = { aggregator: aggregatorDid, descriptor: localSet.descriptor, keySetHash: localSet.keySetHash, verificationKeys: localSet.verificationKeys };
    const doc = { body, signer: aggregatorDid, signature: Buffer.from(sign(signingBytes('key-document', body), aggregator.secretKey)).toString('hex') };
    expect(await verifier({ keyDocuments: [doc] }).verifyPresentation(vp, expectations())).toMatchObject({ ok: true, reason: 'ok' });
  });

  it('the caller\'s own bad presentation throws, naming the member', () => {
    const bad = (edit: (p: any) => void) => {
      const p = structuredClone(local);
      edit(p);
      return () => toVerifiablePresentation(p);
    };
    expect(bad((p) => (p.context.nonce = ''))).toThrow(new RangeError('presentation.context.nonce must not be empty'));
    expect(bad((p) => (p.version = 3))).toThrow(RangeError);
    expect(bad((p) => (p.publicSignals[2] = '1001'))).toThrow(/minScore\) must be at most 1000/);
    expect(bad((p) => (p.publicSignals[2] = '0700'))).toThrow(TypeError);
    expect(bad((p) => (p.context.expiry = 2 ** 40 - 1))).toThrow(/presentation.context.expiry must be in/);
    expect(bad((p) => delete p.proof)).toThrow(TypeError);
    expect(() => toVerifiablePresentation(null as never)).toThrow(TypeError);
    // And a stranger's VP, from the VP's side.
    const vp: any = toVerifiablePresentation(local);
    vp.holder = stranger();
    expect(() => fromVerifiablePresentation(vp)).toThrow(new RangeError("vp.verifiableCredential[0].credentialSubject.id is not what the VP's proof proves"));
    vp.proof.challenge = '';
    expect(() => fromVerifiablePresentation(vp)).toThrow(new RangeError('vp.proof.challenge must not be empty'));
    expect(() => fromVerifiablePresentation({ ...vp, proof: { ...vp.proof, expires: '2027-01-15T08:10:00.000Z' } })).toThrow(/vp.proof.expires must be a UTC dateTime in whole seconds/);
  });
});

describe('JSON-LD', () => {
  it('the VP expands in safe mode (every term defined) to the VC 2.0 IRIs, the proof parts as JSON literals', async () => {
    const vp = toVerifiablePresentation(local);
    const [doc] = (await expand(vp)) as any[];
    expect(doc['@type']).toEqual([`${VC}VerifiablePresentation`]);
    expect(doc[`${VC}holder`]).toEqual([{ '@id': agentDid }]);
    const [credential] = doc[`${VC}verifiableCredential`][0]['@graph'];
    expect(credential['@type']).toEqual([`${VC}VerifiableCredential`, `${ZK}ThresholdCredential`]);
    expect(credential[`${VC}issuer`]).toEqual([{ '@id': aggregatorDid }]);
    expect(credential[`${VC}validFrom`]).toEqual([{ '@type': 'http://www.w3.org/2001/XMLSchema#dateTime', '@value': vp.verifiableCredential[0].validFrom }]);
    expect(credential[`${VC}validUntil`]).toEqual([{ '@type': 'http://www.w3.org/2001/XMLSchema#dateTime', '@value': vp.verifiableCredential[0].validUntil }]);
    const [subject] = credential[`${VC}credentialSubject`];
    expect(subject['@id']).toBe(agentDid);
    expect(subject[`${ZK}minScore`]).toEqual([{ '@type': 'http://www.w3.org/2001/XMLSchema#integer', '@value': provenScore }]);
    expect(subject[`${ZK}tier`]).toEqual([{ '@value': 'trusted' }]);
    const [proof] = doc[`${SEC}proof`][0]['@graph'];
    expect(proof['@type']).toEqual([`${ZK}ThresholdProof`]);
    expect(proof[`${SEC}challenge`]).toEqual([{ '@value': local.context.nonce }]);
    expect(proof[`${SEC}domain`]).toEqual([{ '@value': local.context.audience }]);
    expect(proof[`${SEC}expiration`][0]['@value']).toBe(vp.proof.expires);
    for (const [term, value] of [['groth16Proof', local.proof], ['publicSignals', local.publicSignals], ['checkpoint', local.checkpoint], ['keySet', local.keySet], ['verificationKey', local.verificationKey]] as const) {
      expect(proof[`${ZK}${term}`]).toEqual([{ '@type': '@json', '@value': value }]);
    }
    // Every key of the expanded document is an absolute IRI or a keyword: nothing fell back to a vocabulary.
    const keys = new Set<string>();
    const walk = (x: unknown) => {
      if (Array.isArray(x)) x.forEach(walk);
      else if (typeof x === 'object' && x !== null && !('@value' in x)) for (const [k, v] of Object.entries(x)) keys.add(k), walk(v);
    };
    walk(doc);
    expect([...keys].filter((k) => !k.startsWith('@') && !/^https:\/\/(www\.w3\.org\/2018\/credentials|w3id\.org\/security|zktrust\.dev\/vocab)#/.test(k))).toEqual([]);
  });

  it('safe mode is on: an undefined term fails expansion, and the verifier refuses it too', async () => {
    const vp: any = toVerifiablePresentation(local);
    vp.verifiableCredential[0].credentialSubject.score = 810;
    await expect(expand(vp)).rejects.toThrow(/safe mode/i);
    expect(await verifier().verifyPresentation(vp, expectations())).toEqual({ ok: false, reason: 'malformed' });
    // And a context the loader does not serve is never fetched.
    await expect(expand({ ...toVerifiablePresentation(local), '@context': [VC_CONTEXT_V2, 'https://example.org/other'] })).rejects.toThrow();
  });
});

type Tamper = [name: string, edit: (vp: any) => unknown, reason: ReasonCode];

const TAMPERS: Tamper[] = [
  ['another challenge', (vp) => (vp.proof.challenge = 'nonce-2'), 'context_mismatch'],
  ['another domain', (vp) => (vp.proof.domain = 'https://other.example'), 'context_mismatch'],
  ['the challenge of another case', (vp) => (vp.proof.challenge = vp.proof.challenge.toUpperCase()), 'context_mismatch'],
  ['another holder', (vp) => (vp.holder = stranger()), 'malformed'],
  ['another holder and subject', (vp) => (vp.holder = vp.verifiableCredential[0].credentialSubject.id = stranger()), 'agent_mismatch'],
  ['a higher minScore claimed', (vp) => (vp.verifiableCredential[0].credentialSubject.minScore = 900), 'malformed'],
  ['another tier claimed', (vp) => (vp.verifiableCredential[0].credentialSubject.tier = 'verified partner'), 'malformed'],
  ['more records claimed', (vp) => (vp.verifiableCredential[0].credentialSubject.minRecords = 30), 'malformed'],
  ['another policy claimed', (vp) => (vp.verifiableCredential[0].credentialSubject.scorePolicy = '1'), 'malformed'],
  ['the exact score claimed besides', (vp) => (vp.verifiableCredential[0].credentialSubject.score = 810), 'malformed'],
  ['another issuer', (vp) => (vp.verifiableCredential[0].issuer = stranger()), 'malformed'],
  ['another issuer and checkpoint signer', (vp) => (vp.verifiableCredential[0].issuer = vp.proof.checkpoint.signer = stranger()), 'untrusted_aggregator'],
  ['a later validUntil', (vp) => (vp.verifiableCredential[0].validUntil = '2099-01-01T00:00:00Z'), 'malformed'],
  ['an earlier validFrom', (vp) => (vp.verifiableCredential[0].validFrom = '2020-01-01T00:00:00Z'), 'malformed'],
  ['a later expiry in proof and credential', (vp) => (vp.proof.expires = vp.verifiableCredential[0].validUntil = '2027-01-15T08:10:01Z'), 'context_mismatch'],
  ['a raised minScore signal, claimed consistently', (vp) => {
    vp.proof.publicSignals[2] = '900';
    Object.assign(vp.verifiableCredential[0].credentialSubject, { minScore: 900, tier: 'verified partner' });
  }, 'invalid_proof'],
  ['no zktrust context', (vp) => vp['@context'].pop(), 'malformed'],
  ['the contexts swapped', (vp) => vp['@context'].reverse(), 'malformed'],
  ['the VC 1.1 context', (vp) => (vp['@context'][0] = 'https://www.w3.org/2018/credentials/v1'), 'malformed'],
  ['another VP type', (vp) => vp.type.push('ExtraPresentation'), 'malformed'],
  ['an id added', (vp) => (vp.id = 'urn:uuid:0c4e4d2a-36e0-4c39-8f36-0e5ea3d0c1f1'), 'malformed'],
  ['two credentials', (vp) => vp.verifiableCredential.push(vp.verifiableCredential[0]), 'malformed'],
  ['the credential as an object, not a list', (vp) => (vp.verifiableCredential = vp.verifiableCredential[0]), 'malformed'],
  ['another proof type', (vp) => (vp.proof.type = 'DataIntegrityProof'), 'malformed'],
  ['no proof', (vp) => delete vp.proof, 'malformed'],
  ['the proof as a list', (vp) => (vp.proof = [vp.proof]), 'malformed'],
  ['a presentation version as a string', (vp) => (vp.proof.presentationVersion = '2'), 'malformed'],
  ['an expiry with milliseconds', (vp) => (vp.proof.expires = vp.proof.expires.replace('Z', '.000Z')), 'malformed'],
  ['an expiry in another time zone', (vp) => (vp.proof.expires = '2027-01-15T09:10:00+01:00'), 'malformed'],
  ['@context null', (vp) => (vp['@context'] = null), 'malformed'],
  ['a plain presentation with an @context', (vp) => Object.assign(vp, local), 'malformed'],
];

describe('tampered VPs', () => {
  it(`${TAMPERS.length} alterations, each refused with its reason; the unaltered VP still verifies`, async () => {
    const wrong: string[] = [];
    for (const [name, edit, reason] of TAMPERS) {
      const vp = toVerifiablePresentation(local);
      edit(vp);
      const r = await verifier().verifyPresentation(vp, expectations());
      if (r.ok || r.reason !== reason) wrong.push(`${name}: ${r.reason}, expected ${reason}`);
    }
    expect(wrong).toEqual([]);
    expect(await verifier().verifyPresentation(toVerifiablePresentation(local), expectations())).toMatchObject({ ok: true });
  });

  it('the VP binds its challenge and domain: another nonce or audience expected is context_mismatch, and the cache lets nothing through', async () => {
    const vp = toVerifiablePresentation(local);
    expect((await verifier().verifyPresentation(vp, expectationsOf(provenScore, { context: { nonce: 'nonce-2', audience: local.context.audience } }))).reason).toBe('context_mismatch');
    expect((await verifier().verifyPresentation(vp, expectationsOf(provenScore, { context: { nonce: local.context.nonce, audience: 'https://other.example' } }))).reason).toBe('context_mismatch');
    // A plain presentation's nonce and audience are not read (its proof binds their hash);
    // a verifier that accepted it must still refuse the VP whose challenge differs.
    const v = verifier();
    const plain = { ...structuredClone(local), context: { ...local.context, nonce: 'written-by-anyone' } };
    expect(await v.verifyPresentation(plain, expectations())).toMatchObject({ ok: true });
    const forged = toVerifiablePresentation(plain);
    expect(await v.verifyPresentation(forged, expectations())).toMatchObject({ ok: false, reason: 'context_mismatch' });
    expect(await v.verifyPresentation(vp, expectations())).toMatchObject({ ok: true });
    expect(await v.verifyPresentation(vp, expectations())).toMatchObject({ ok: true, cached: true });
  });

  it('a stricter expectation than the VP proves is refused as for a presentation', async () => {
    const vp = toVerifiablePresentation(local);
    expect((await verifier().verifyPresentation(vp, expectationsOf(provenScore + 1))).reason).toBe('score_below_expected');
    expect((await verifier().verifyPresentation(vp, expectationsOf(provenScore, { minOrgs: 3 }))).reason).toBe('orgs_below_expected');
    expect((await verifier().verifyPresentation(vp, expectationsOf(provenScore, { agent: stranger() }))).reason).toBe('agent_mismatch');
    const stale = toVerifiablePresentation({ ...structuredClone(local), checkpoint: checkpoint(local.checkpoint.body.stateRoot, local.checkpoint.body.keySetHash, 'local', { time: T0 - 7_200_000 }) });
    expect((await verifier().verifyPresentation(stale, expectations())).reason).toBe('stale_checkpoint');
  });

  it('500 random alterations of the VP (a member replaced by hostile JSON, or removed) never throw', async () => {
    const vp = toVerifiablePresentation(local);
    const paths: Array<Array<string | number>> = [];
    const walk = (x: unknown, path: Array<string | number>) => {
      paths.push(path);
      // Not into the verification key's points: the field walk of the plain presentation covers them.
      if (typeof x === 'object' && x !== null && path.at(-1) !== 'verificationKey' && path.at(-1) !== 'keySet') for (const [k, v] of Object.entries(x)) walk(v, [...path, Array.isArray(x) ? Number(k) : k]);
    };
    walk(vp, []);
    const t0 = performance.now();
    const v = verifier();
    const reasons = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths.slice(1)), fc.option(junk, { nil: undefined }), async (path, value) => {
        const altered = structuredClone(vp) as any;
        const parent = path.slice(0, -1).reduce((o: any, k) => o[k], altered);
        if (value === undefined) delete parent[path.at(-1)!];
        else parent[path.at(-1)!] = value;
        const r = await v.verifyPresentation(altered, expectations());
        expect(typeof r.ok).toBe('boolean');
        reasons.add(r.reason);
        try {
          fromVerifiablePresentation(altered);
        } catch (e) {
          expect(e instanceof TypeError || e instanceof RangeError).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
    expect(reasons.has('malformed')).toBe(true);
    expect(performance.now() - t0).toBeLessThan(60_000);
    expect(await verifier().verifyPresentation(vp, expectations())).toMatchObject({ ok: true });
  }, 120_000);
});
