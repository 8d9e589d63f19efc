/**
 * The A2A agent-card extension and the gateway's gate (src/interop/a2a.ts) with real threshold
 * proofs (test configuration, local keys): the extension entry and a whole card validate
 * against the JSON Schemas we publish (ajv, draft 2020-12), and the gate's own reading of a
 * card agrees with those schemas on hundreds of altered cards; a gateway that requires
 * "score >= X from aggregator D" gets a presentation for its own nonce and audience from the
 * agent and lets it in, and refuses each way a card, an agent or a presentation can fall
 * short, with its reason. Hostile cards and presentations never make it throw.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/crypto/ed25519.ts';
import { didFromPublicKey } from '../../src/crypto/identity.ts';
import {
  AGENT_CARD_SUBSET_SCHEMA,
  TRUST_EXTENSION_PARAMS_SCHEMA,
  TRUST_EXTENSION_URI,
  checkAgentCardTrust,
  createVerifier,
  readTrustExtension,
  toVerifiablePresentation,
  trustExtension,
  type CardTrustOptions,
  type TrustRequest,
} from '../../src/verifier/index.ts';
import { junk } from '../helpers/hostile.ts';
import { agentScore, proveFor } from '../helpers/interop.ts';
import { CONTEXT, T0, aggregatorDid, agentDid, provePresentations } from '../helpers/presentations.ts';

const GATEWAY = { nonce: 'task-7f3a', audience: 'https://gateway.example/a2a' };
const AGGREGATOR_URL = 'https://zktrust.example';
const other = didFromPublicKey(generateKeyPair().publicKey);
const stranger = () => didFromPublicKey(generateKeyPair().publicKey);

/** An A2A AgentCard (protocol 0.3 members) whose agent advertises zktrust. */
function cardOf(params: Parameters<typeof trustExtension>[0] = { agent: agentDid, aggregators: [{ did: aggregatorDid, url: AGGREGATOR_URL, tiers: ['probationary', 'standard', 'trusted'] }] }) {
  return {
    protocolVersion: '0.3.0',
    name: 'Invoice reconciler',
    description: 'Reconciles supplier invoices against purchase orders.',
    url: 'https://agent.example/a2a/v1',
    preferredTransport: 'JSONRPC',
    version: '1.4.0',
    provider: { organization: 'Example Corp', url: 'https://example.com' },
    capabilities: { streaming: true, pushNotifications: false, extensions: [{ uri: 'https://example.org/ext/other/v1', required: false }, trustExtension(params)] },
    defaultInputModes: ['application/json', 'text/plain'],
    defaultOutputModes: ['application/json'],
    skills: [{ id: 'reconcile', name: 'Reconcile invoices', description: 'Matches invoices to orders', tags: ['finance'] }],
  };
}

const ajv = new Ajv2020({ strict: true, allErrors: true });
const validateCard = ajv.compile(AGENT_CARD_SUBSET_SCHEMA);
const validateParams = ajv.compile(TRUST_EXTENSION_PARAMS_SCHEMA);

let local: any;
let dev: any;
let score: number;

beforeAll(async () => {
  ({ local, dev } = await provePresentations());
  score = await agentScore();
}, 180_000);

const verifier = (aggregatorKeys = [aggregatorDid]) => createVerifier({ aggregatorKeys, now: () => T0 });

/** The gate's options: the gateway's context and clock, `over` changed. */
function options(over: Partial<CardTrustOptions> = {}): CardTrustOptions {
  return { verifier: verifier(), aggregator: aggregatorDid, minScore: 700, context: GATEWAY, maxAgeS: 3600, now: () => T0, ...over };
}

/** An agent that answers the gate's requests with real proofs, and remembers them. */
function agentEndpoint() {
  const requests: TrustRequest[] = [];
  return { requests, obtain: async (r: TrustRequest) => (requests.push(r), proveFor(r.context, r.minScore)) };
}

describe('the agent card extension', () => {
  it('builds an AgentExtension entry whose params and card validate against the published schemas', () => {
    const card = cardOf();
    const ext = card.capabilities.extensions[1]!;
    expect(ext).toMatchObject({ uri: TRUST_EXTENSION_URI, required: false, params: { agent: agentDid, aggregators: [{ did: aggregatorDid, url: AGGREGATOR_URL, tiers: ['probationary', 'standard', 'trusted'] }] } });
    expect(typeof ext.description).toBe('string');
    expect(validateParams(ext.params), JSON.stringify(validateParams.errors)).toBe(true);
    expect(validateCard(card), JSON.stringify(validateCard.errors)).toBe(true);
    expect(readTrustExtension(card)).toEqual(ext.params);
    expect(JSON.parse(JSON.stringify(card))).toEqual(card); // plain JSON, as a card is served
    expect(trustExtension({ agent: agentDid, aggregators: [{ did: aggregatorDid, url: 'http://127.0.0.1:8080', tiers: ['verified partner'] }], formats: ['vc-vp-2.0'] }, { required: true })).toMatchObject({ required: true, params: { formats: ['vc-vp-2.0'] } });
  });

  it('refuses params the schema refuses, naming them', () => {
    const params = (over: object) => ({ agent: agentDid, aggregators: [{ did: aggregatorDid, url: AGGREGATOR_URL, tiers: ['trusted'] }], ...over }) as never;
    const aggregator = (over: object) => params({ aggregators: [{ did: aggregatorDid, url: AGGREGATOR_URL, tiers: ['trusted'], ...over }] });
    for (const [p, message] of [
      [params({ agent: 'did:web:agent.example' }), /params.agent must be an Ed25519 did:key/],
      [params({ agent: `${agentDid}1` }), /params.agent/],
      [params({ aggregators: [] }), /params.aggregators must list 1 to 16/],
      [aggregator({ url: 'ftp://zktrust.example' }), /url must be an http\(s\) URL/],
      [aggregator({ url: 'https://zk trust.example' }), /url must be an http\(s\) URL/],
      [aggregator({ tiers: ['gold'] }), /tiers must be distinct tier names/],
      [aggregator({ tiers: ['trusted', 'trusted'] }), /tiers must be distinct/],
      [aggregator({ extra: 1 }), /must be an object of did, url and tiers/],
      [params({ formats: ['jwt'] }), /params.formats/],
      [params({ score: 810 }), /params must be an object of agent, aggregators and formats/],
    ] as const) {
      expect(() => trustExtension(p)).toThrow(message);
      expect(validateParams(p), JSON.stringify(p)).toBe(false);
    }
  });

  it('the gate reads a card exactly as the published schema does, on 400 altered cards', () => {
    const base = cardOf();
    const paths: Array<Array<string | number>> = [];
    const walk = (x: unknown, path: Array<string | number>) => {
      paths.push(path);
      if (typeof x === 'object' && x !== null) for (const [k, v] of Object.entries(x)) walk(v, [...path, Array.isArray(x) ? Number(k) : k]);
    };
    walk(base, []);
    let valid = 0;
    fc.assert(
      fc.property(fc.constantFrom(...paths.slice(1)), fc.option(fc.oneof(junk, fc.constantFrom(TRUST_EXTENSION_URI, agentDid, 'trusted', 'verified partner', AGGREGATOR_URL, true, {}, [])), { nil: undefined }), (path, value) => {
        const card = structuredClone(base) as any;
        const parent = path.slice(0, -1).reduce((o: any, k) => o[k], card);
        if (value === undefined) delete parent[path.at(-1)!];
        else parent[path.at(-1)!] = value;
        // As a card arrives: JSON text.
        const served = JSON.parse(JSON.stringify(card));
        const read = readTrustExtension(served) !== undefined;
        expect(read, JSON.stringify(path)).toBe(validateCard(served));
        if (read) valid++;
      }),
      { numRuns: 400 },
    );
    // Both verdicts occur.
    expect(valid).toBeGreaterThan(20);
    expect(valid).toBeLessThan(390);
  });
});

describe('checkAgentCardTrust', () => {
  it('asks the agent for the tier boundary at or above X, for the gateway\'s own context, and lets it in', async () => {
    expect(score).toBeGreaterThanOrEqual(700);
    const agent = agentEndpoint();
    const r = await checkAgentCardTrust(cardOf(), options({ minScore: 650, obtain: agent.obtain }));
    expect(r).toMatchObject({ allowed: true, reason: 'ok', agent: agentDid, verification: { ok: true, provenMinScore: 700, tier: 'trusted', keyMode: 'local', checkpoint: { signer: aggregatorDid } } });
    expect(agent.requests).toEqual([{ agent: agentDid, aggregator: { did: aggregatorDid, url: AGGREGATOR_URL }, minScore: 700, context: { ...GATEWAY, expiry: T0 / 1000 + 300 } }]);
    // The same with the VP form and with minimums of records and organisations.
    const vp = await checkAgentCardTrust(cardOf(), options({ minScore: 500, minRecords: 3, minOrgs: 2, obtain: async (q) => toVerifiablePresentation(await proveFor(q.context, q.minScore)) }));
    expect(vp).toMatchObject({ allowed: true, reason: 'ok', verification: { provenMinScore: 500, tier: 'standard' } });
    // X = 0 asks for 0, and a presentation already in hand is verified without asking.
    expect(await checkAgentCardTrust(cardOf(), options({ minScore: 0, obtain: agent.obtain }))).toMatchObject({ allowed: true, verification: { provenMinScore: 0 } });
    expect(agent.requests.at(-1)!.minScore).toBe(0);
    const given = await proveFor({ ...GATEWAY, expiry: T0 / 1000 + 60 }, 700);
    expect(await checkAgentCardTrust(cardOf(), options({ presentation: given }))).toMatchObject({ allowed: true, reason: 'ok' });
  });

  it('refuses, with the reason, each way the card, the agent or the presentation falls short', async () => {
    const asked: TrustRequest[] = [];
    const never = (r: TrustRequest) => {
      asked.push(r);
      throw new Error('the gate must not ask');
    };
    // A presentation may be given as the promise of one (proving takes a moment).
    const gate = async (card: unknown, over: Partial<CardTrustOptions>) => checkAgentCardTrust(card, options({ ...over, presentation: await over.presentation }));
    const forGateway = (minScore: number) => proveFor({ ...GATEWAY, expiry: T0 / 1000 + 60 }, minScore);
    const cases: Array<[string, Promise<{ allowed: boolean; reason: string }>, string]> = [
      ['the card names another aggregator only', gate(cardOf({ agent: agentDid, aggregators: [{ did: other, url: AGGREGATOR_URL, tiers: ['trusted'] }] }), { obtain: never }), 'aggregator_not_advertised'],
      ['the card advertises no tier reaching X', gate(cardOf(), { minScore: 900, obtain: never }), 'tier_not_advertised'],
      ['the card has no zktrust extension', gate({ ...cardOf(), capabilities: { extensions: [] } }, { obtain: never }), 'no_trust_extension'],
      ['the card has no capabilities', gate({ name: 'x' }, { obtain: never }), 'malformed_card'],
      ['the card lists zktrust twice', gate((() => { const c = cardOf(); c.capabilities.extensions.push(c.capabilities.extensions[1]!); return c; })(), { obtain: never }), 'malformed_card'],
      ['the card is a string', gate('{"name":"x"}', { obtain: never }), 'malformed_card'],
      ['the card is a cycle', gate((() => { const c: any = cardOf(); c.self = c; return c; })(), { obtain: never }), 'malformed_card'],
      ['the agent answers nothing', gate(cardOf(), { obtain: () => undefined }), 'no_presentation'],
      ['the agent fails', gate(cardOf(), { obtain: () => Promise.reject(new Error('unreachable')) }), 'no_presentation'],
      ['a proof below X', gate(cardOf(), { minScore: 800, presentation: forGateway(700) as never }), 'score_below_expected'],
      ['a proof for another nonce', gate(cardOf(), { presentation: proveFor({ ...GATEWAY, nonce: 'task-other', expiry: T0 / 1000 + 60 }, 700) as never }), 'context_mismatch'],
      ['a proof for another gateway', gate(cardOf(), { presentation: proveFor({ ...CONTEXT, nonce: GATEWAY.nonce }, 700) as never }), 'context_mismatch'],
      ['a card claiming another agent', gate(cardOf({ agent: stranger(), aggregators: [{ did: aggregatorDid, url: AGGREGATOR_URL, tiers: ['trusted'] }] }), { presentation: forGateway(700) as never }), 'agent_mismatch'],
      ['an expired proof', gate(cardOf(), { presentation: proveFor({ ...GATEWAY, expiry: T0 / 1000 }, 700) as never }), 'expired'],
      ['a proof under development keys', gate(cardOf(), { minScore: 0, presentation: dev }), 'insecure_keys'],
      ['junk for a presentation', gate(cardOf(), { presentation: { '@context': 'x' } }), 'malformed'],
    ];
    const wrong: string[] = [];
    for (const [name, result, reason] of cases) {
      const r = await result;
      if (r.allowed || r.reason !== reason) wrong.push(`${name}: ${r.reason}, expected ${reason}`);
    }
    expect(wrong).toEqual([]);
    expect(asked).toEqual([]);
  });

  it('requires the aggregator asked for, even when the verifier trusts others', async () => {
    const both = verifier([aggregatorDid, other]);
    const card = cardOf({ agent: agentDid, aggregators: [{ did: aggregatorDid, url: AGGREGATOR_URL, tiers: ['trusted'] }, { did: other, url: 'https://other.example', tiers: ['trusted'] }] });
    const presentation = await proveFor({ ...GATEWAY, expiry: T0 / 1000 + 60 }, 700);
    expect(await checkAgentCardTrust(card, options({ verifier: both, aggregator: other, presentation }))).toMatchObject({ allowed: false, reason: 'aggregator_mismatch', verification: { ok: true, checkpoint: { signer: aggregatorDid } } });
    expect(await checkAgentCardTrust(card, options({ verifier: both, presentation }))).toMatchObject({ allowed: true });
    // A verifier that does not trust the aggregator asked for refuses its presentations.
    expect(await checkAgentCardTrust(card, options({ verifier: verifier([other]), presentation }))).toMatchObject({ allowed: false, reason: 'untrusted_aggregator' });
  });

  it('throws only for the caller\'s own options', async () => {
    const card = cardOf();
    await expect(checkAgentCardTrust(card, options({ minScore: 1001, presentation: local }))).rejects.toThrow(RangeError);
    await expect(checkAgentCardTrust(card, options({ minScore: 1.5, presentation: local }))).rejects.toThrow(TypeError);
    await expect(checkAgentCardTrust(card, options({ aggregator: 'did:web:x', presentation: local }))).rejects.toThrow(RangeError);
    await expect(checkAgentCardTrust(card, options())).rejects.toThrow(/presentation or options.obtain/);
    const asked: TrustRequest[] = [];
    await expect(checkAgentCardTrust(card, options({ obtain: (r) => asked.push(r), context: { nonce: '', audience: 'a' } }))).rejects.toThrow(/nonce must not be empty/);
    await expect(checkAgentCardTrust(card, options({ obtain: (r) => asked.push(r), maxAgeS: -1 }))).rejects.toThrow(/maxAgeS must be a non-negative integer/);
    await expect(checkAgentCardTrust(card, options({ obtain: (r) => asked.push(r), minOrgs: 1.5 }))).rejects.toThrow(/minOrgs/);
    expect(asked).toEqual([]);
  });

  it('300 hostile cards and presentations never make it throw', async () => {
    const base = cardOf();
    const presentation = await proveFor({ ...GATEWAY, expiry: T0 / 1000 + 60 }, 700);
    const v = verifier();
    await fc.assert(
      fc.asyncProperty(fc.oneof(junk, fc.constant(base), fc.constant({ ...base, capabilities: junk })), fc.oneof(fc.constant(presentation), fc.constant(toVerifiablePresentation(presentation)), junk), async (card, p) => {
        const r = await checkAgentCardTrust(card, options({ verifier: v, presentation: p }));
        expect(typeof r.allowed).toBe('boolean');
        if (r.allowed) expect(card).toBe(base);
      }),
      { numRuns: 300 },
    );
  }, 60_000);
});
