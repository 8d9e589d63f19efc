/**
 * zktrust in A2A (Agent2Agent) agent cards: an extension entry of `capabilities.extensions[]`
 * that says which zktrust aggregators vouch for the agent and which tiers it can prove, and a
 * gate that requires "score >= X from aggregator D" of a card's agent before a task is
 * accepted. Browser-safe; docs/integrations.md describes the extension.
 *
 * The extension (A2A's AgentExtension: uri, description, required, params):
 *
 *   { "uri": "https://zktrust.dev/a2a/trust/v1", "required": false, "description": "...",
 *     "params": { "agent": <the agent's did:key>,
 *                 "aggregators": [{ "did": <aggregator did:key>, "url": <its API>,
 *                                   "tiers": ["standard", "trusted"] }],
 *                 "formats": ["zktrust-v2", "vc-vp-2.0"] } }
 *
 * `params` follows TRUST_EXTENSION_PARAMS_SCHEMA. The card is the agent's own claim: the
 * gate believes none of it but where to look. It asks the agent (through `obtain`, which the
 * gateway wires to its A2A client) for a presentation bound to the gateway's own nonce and
 * audience, and accepts only what the verifier accepts, for the card's agent and the
 * required aggregator. An agent proves only tier boundaries by default, so the gate asks for
 * the least tier boundary at or above X.
 * @module
 */
import { canonicalJson } from '../crypto/canonical.ts';
import { EXPIRY_BITS } from '../crypto/context.ts';
import { describe } from '../crypto/field.ts';
import { publicKeyFromDid } from '../crypto/identity.ts';
import { TIERS, type Tier } from '../crypto/score-policy.ts';
import type { Expectations, ReasonCode, VerificationResult, Verifier } from '../verifier/presentation.ts';

/** The extension's URI (its version is part of it: a v2 gets a new URI). */
export const TRUST_EXTENSION_URI = 'https://zktrust.dev/a2a/trust/v1';

/** Presentation formats: zktrust JSON (docs/protocol.md, version 2) and its W3C VP (src/interop/vc.ts). */
export const PRESENTATION_FORMATS = ['zktrust-v2', 'vc-vp-2.0'] as const;
export type PresentationFormat = (typeof PRESENTATION_FORMATS)[number];

const TIER_NAMES = TIERS.map((t) => t.tier);
/** An Ed25519 did:key (multicodec 0xed01, base58btc): 'did:key:z6Mk' and 44 more characters. */
const DID_KEY = '^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{44}$';
/** An http(s) URL without whitespace. */
const HTTP_URL = '^https?://[^\\s/?#]+([/?#]\\S*)?$';
const MAX_AGGREGATORS = 16;
const MAX_URL = 2048;

export interface TrustExtensionParams {
  /** The agent's did:key: the subject of its presentations. */
  agent: string;
  /** The aggregators that vouch for it, where they are, and the tiers it can prove under each. */
  aggregators: Array<{ did: string; url: string; tiers: Tier[] }>;
  /** The presentation forms it sends (both when left out). */
  formats?: PresentationFormat[];
}

/** A2A's AgentExtension. */
export interface AgentExtension {
  uri: string;
  description?: string;
  required?: boolean;
  params?: Record<string, unknown>;
}

const didKey = { type: 'string', pattern: DID_KEY, description: 'An Ed25519 did:key; it must also decode to an Ed25519 public key.' } as const;

/** JSON Schema (2020-12) of the extension's params. */
export const TRUST_EXTENSION_PARAMS_SCHEMA = Object.freeze({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${TRUST_EXTENSION_URI}/params.schema.json`,
  title: 'zktrust A2A trust extension: params',
  type: 'object',
  required: ['agent', 'aggregators'],
  additionalProperties: false,
  properties: {
    agent: didKey,
    aggregators: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_AGGREGATORS,
      items: {
        type: 'object',
        required: ['did', 'url', 'tiers'],
        additionalProperties: false,
        properties: {
          did: didKey,
          url: { type: 'string', maxLength: MAX_URL, pattern: HTTP_URL, description: "The aggregator's API (its /v1/keys serves its key documents)." },
          tiers: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: TIER_NAMES } },
        },
      },
    },
    formats: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...PRESENTATION_FORMATS] } },
  },
});

/**
 * JSON Schema (2020-12) of the members of an A2A AgentCard the gate relies on: a name, and
 * `capabilities.extensions[]` of well-formed AgentExtensions holding exactly one zktrust entry
 * with valid params. Other members of the card are A2A's business and left unchecked.
 */
export const AGENT_CARD_SUBSET_SCHEMA = Object.freeze({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: `${TRUST_EXTENSION_URI}/agent-card.schema.json`,
  title: 'The A2A AgentCard members zktrust relies on',
  type: 'object',
  required: ['name', 'capabilities'],
  properties: {
    name: { type: 'string', minLength: 1 },
    capabilities: {
      type: 'object',
      required: ['extensions'],
      properties: {
        extensions: {
          type: 'array',
          items: {
            type: 'object',
            required: ['uri'],
            properties: { uri: { type: 'string' }, description: { type: 'string' }, required: { type: 'boolean' }, params: { type: 'object' } },
            if: { type: 'object', properties: { uri: { const: TRUST_EXTENSION_URI } } },
            // The params schema inline (its $id and $schema are the card schema's business).
            then: { required: ['params'], properties: { params: (({ $id: _i, $schema: _s, ...body }) => body)(TRUST_EXTENSION_PARAMS_SCHEMA) } },
          },
          contains: { type: 'object', required: ['uri'], properties: { uri: { const: TRUST_EXTENSION_URI } } },
          minContains: 1,
          maxContains: 1,
        },
      },
    },
  },
});

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const DID_RE = new RegExp(DID_KEY);
const URL_RE = new RegExp(HTTP_URL);
const isDidKey = (x: unknown): x is string => {
  if (typeof x !== 'string' || !DID_RE.test(x)) return false;
  try {
    publicKeyFromDid(x);
    return true;
  } catch {
    return false;
  }
};
const onlyKeys = (o: Record<string, unknown>, allowed: readonly string[]) => Object.keys(o).every((k) => allowed.includes(k));
const unique = (xs: unknown[]) => new Set(xs).size === xs.length;

/** The params if they follow TRUST_EXTENSION_PARAMS_SCHEMA (and the dids decode), else why not. */
function checkParams(x: unknown): TrustExtensionParams | string {
  if (!isObject(x) || !onlyKeys(x, ['agent', 'aggregators', 'formats'])) return 'params must be an object of agent, aggregators and formats';
  if (!isDidKey(x.agent)) return 'params.agent must be an Ed25519 did:key';
  const ags = x.aggregators;
  if (!Array.isArray(ags) || ags.length < 1 || ags.length > MAX_AGGREGATORS) return `params.aggregators must list 1 to ${MAX_AGGREGATORS} aggregators`;
  for (const [i, a] of ags.entries()) {
    if (!isObject(a) || !onlyKeys(a, ['did', 'url', 'tiers'])) return `params.aggregators[${i}] must be an object of did, url and tiers`;
    if (!isDidKey(a.did)) return `params.aggregators[${i}].did must be an Ed25519 did:key`;
    if (typeof a.url !== 'string' || a.url.length > MAX_URL || !URL_RE.test(a.url)) return `params.aggregators[${i}].url must be an http(s) URL`;
    if (!Array.isArray(a.tiers) || a.tiers.length < 1 || !unique(a.tiers) || !a.tiers.every((t) => (TIER_NAMES as unknown[]).includes(t))) return `params.aggregators[${i}].tiers must be distinct tier names (${TIER_NAMES.join(', ')})`;
  }
  if (x.formats !== undefined && (!Array.isArray(x.formats) || x.formats.length < 1 || !unique(x.formats) || !x.formats.every((f) => (PRESENTATION_FORMATS as readonly unknown[]).includes(f)))) return `params.formats must be distinct formats (${PRESENTATION_FORMATS.join(', ')})`;
  return x as unknown as TrustExtensionParams;
}

/**
 * The AgentCard `capabilities.extensions[]` entry of an agent that can show zktrust
 * presentations. `required` is false by default: clients that do not know zktrust may still
 * talk to the agent.
 * @throws TypeError / RangeError for params that do not follow TRUST_EXTENSION_PARAMS_SCHEMA
 *   (a did that is no Ed25519 did:key, a URL that is not http(s), an unknown tier...).
 * @example card.capabilities.extensions.push(trustExtension({ agent: client.did,
 *   aggregators: [{ did: aggregatorDid, url: 'https://zktrust.example', tiers: ['standard', 'trusted'] }] }));
 */
export function trustExtension(params: TrustExtensionParams, opts: { required?: boolean; description?: string } = {}): AgentExtension {
  const checked = checkParams(params);
  if (typeof checked === 'string') throw new RangeError(checked);
  if (opts.required !== undefined && typeof opts.required !== 'boolean') throw new TypeError(`required must be a boolean, got ${describe(opts.required)}`);
  if (opts.description !== undefined && typeof opts.description !== 'string') throw new TypeError(`description must be a string, got ${describe(opts.description)}`);
  return {
    uri: TRUST_EXTENSION_URI,
    description: opts.description ?? 'zktrust: proves "trust score >= X" in zero knowledge. Ask for a presentation bound to your own nonce and audience; verify it with zktrust/verifier against the aggregators listed.',
    required: opts.required ?? false,
    params: structuredClone(checked) as unknown as Record<string, unknown>,
  };
}

/** The largest card read, in characters of its canonical JSON. */
export const MAX_CARD_CHARS = 1 << 20;

/** The card's zktrust params, or why there are none. Never throws. */
function readCard(card: unknown): TrustExtensionParams | 'malformed_card' | 'no_trust_extension' {
  let c: unknown;
  try {
    // Read once, as plain data: a getter cannot show the checks one thing and the gate another.
    const json = canonicalJson(card);
    if (json.length > MAX_CARD_CHARS) return 'malformed_card';
    c = JSON.parse(json);
  } catch {
    return 'malformed_card';
  }
  if (!isObject(c) || typeof c.name !== 'string' || c.name.length === 0 || !isObject(c.capabilities)) return 'malformed_card';
  const exts = c.capabilities.extensions;
  if (!Array.isArray(exts)) return 'malformed_card';
  for (const e of exts) {
    if (!isObject(e) || typeof e.uri !== 'string') return 'malformed_card';
    if (e.description !== undefined && typeof e.description !== 'string') return 'malformed_card';
    if (e.required !== undefined && typeof e.required !== 'boolean') return 'malformed_card';
    if (e.params !== undefined && !isObject(e.params)) return 'malformed_card';
  }
  const ours = exts.filter((e) => e.uri === TRUST_EXTENSION_URI);
  if (ours.length === 0) return 'no_trust_extension';
  if (ours.length > 1) return 'malformed_card';
  const params = checkParams(ours[0]!.params);
  return typeof params === 'string' ? 'malformed_card' : params;
}

/**
 * The zktrust params an agent card advertises, or undefined when the card is not one the gate
 * can use (AGENT_CARD_SUBSET_SCHEMA) or has no zktrust extension. Never throws.
 */
export function readTrustExtension(card: unknown): TrustExtensionParams | undefined {
  const r = readCard(card);
  return typeof r === 'string' ? undefined : r;
}

/** What the gate asks the agent for: a presentation of `minScore` from `aggregator`, for this context. */
export interface TrustRequest {
  agent: string;
  aggregator: { did: string; url: string };
  minScore: number;
  minRecords?: number;
  minOrgs?: number;
  context: { nonce: string; audience: string; expiry: number };
}

export type CardTrustReason = ReasonCode | 'malformed_card' | 'no_trust_extension' | 'aggregator_not_advertised' | 'tier_not_advertised' | 'no_presentation' | 'aggregator_mismatch';

export interface CardTrustResult {
  allowed: boolean;
  reason: CardTrustReason;
  /** The card's agent, once read. */
  agent?: string;
  /** The verifier's result, once a presentation was verified. */
  verification?: VerificationResult;
}

export interface CardTrustOptions {
  /** A verifier that trusts `aggregator` (createVerifier). */
  verifier: Verifier;
  /** The aggregator the gateway requires (did:key). */
  aggregator: string;
  /** The least score required (0..1000). */
  minScore: number;
  minRecords?: number;
  minOrgs?: number;
  /** The gateway's own fresh nonce and audience for this task. */
  context: { nonce: string; audience: string };
  /** The oldest checkpoint accepted, in seconds. */
  maxAgeS: number;
  /** The presentation the agent already sent (either form), or: */
  presentation?: unknown;
  /** How to ask the agent for one (an A2A message to it, docs/integrations.md). */
  obtain?: (request: TrustRequest) => unknown | Promise<unknown>;
  /** Seconds the requested presentation stays valid (default 300). */
  validForS?: number;
  /** Current time in milliseconds (tests). */
  now?: () => number;
}

/** The least tier boundary at or above `x` (the agent proves tiers only, by default), or `x` above the top one. */
function tierBoundaryFor(x: number): number {
  const bounds = TIERS.map((t) => Number(t.min)).filter((m) => m >= x);
  return bounds.length ? Math.min(...bounds) : x;
}

/**
 * Whether the agent of an A2A card proves "score >= minScore" from `aggregator`: the card
 * must advertise that aggregator, the presentation (given, or obtained from the agent with a
 * request for the gateway's context) must verify for the card's agent, the gateway's nonce
 * and audience and at least minScore, and its checkpoint must be that aggregator's.
 * Before asking, the card's tiers under that aggregator must reach minScore
 * (`tier_not_advertised`); a presentation already given is verified whatever the card says.
 * A stranger's card, presentation or failing `obtain` never throws.
 * @throws TypeError / RangeError for the caller's own malformed options.
 * @example
 *   const { allowed, reason } = await checkAgentCardTrust(card, { verifier, aggregator: D,
 *     minScore: 700, context: { nonce, audience: 'https://gateway.example' }, maxAgeS: 3600,
 *     obtain: (request) => askAgentOverA2A(card, request) });
 */
export async function checkAgentCardTrust(card: unknown, opts: CardTrustOptions): Promise<CardTrustResult> {
  if (!isObject(opts)) throw new TypeError(`options must be an object, got ${describe(opts)}`);
  if (typeof opts.verifier?.verifyPresentation !== 'function') throw new TypeError('options.verifier must be a Verifier (createVerifier)');
  publicKeyFromDid(opts.aggregator);
  if (!Number.isInteger(opts.minScore)) throw new TypeError(`options.minScore must be an integer, got ${describe(opts.minScore)}`);
  if (opts.minScore < 0 || opts.minScore > 1000) throw new RangeError('options.minScore must be in [0, 1000]');
  if (opts.presentation === undefined && typeof opts.obtain !== 'function') throw new TypeError('options.presentation or options.obtain is required');
  const validForS = opts.validForS ?? 300;
  if (!Number.isInteger(validForS) || validForS < 1) throw new RangeError('options.validForS must be a positive integer');
  if (!isObject(opts.context)) throw new TypeError(`options.context must be an object, got ${describe(opts.context)}`);
  // Checked before the agent is asked anything (the verifier checks them again).
  for (const k of ['nonce', 'audience'] as const) {
    if (typeof opts.context[k] !== 'string') throw new TypeError(`options.context.${k} must be a string, got ${describe(opts.context[k])}`);
    if (opts.context[k].length === 0) throw new RangeError(`options.context.${k} must not be empty`);
  }
  for (const k of ['maxAgeS', 'minRecords', 'minOrgs'] as const) {
    const v = opts[k];
    if (v === undefined && k !== 'maxAgeS') continue;
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new RangeError(`options.${k} must be a non-negative integer, got ${describe(v)}`);
  }

  const params = readCard(card);
  if (typeof params === 'string') return { allowed: false, reason: params };
  const agent = params.agent;
  const advertised = params.aggregators.find((a) => a.did === opts.aggregator);
  if (!advertised) return { allowed: false, reason: 'aggregator_not_advertised', agent };

  let presentation = opts.presentation;
  if (presentation === undefined) {
    const best = Math.max(...advertised.tiers.map((t) => Number(TIERS.find((x) => x.tier === t)!.min)));
    if (best < opts.minScore) return { allowed: false, reason: 'tier_not_advertised', agent };
    const expiry = Math.floor((opts.now ?? Date.now)() / 1000) + validForS;
    if (expiry >= 2 ** EXPIRY_BITS) throw new RangeError('options.validForS puts the expiry out of range');
    const request: TrustRequest = {
      agent,
      aggregator: { did: advertised.did, url: advertised.url },
      minScore: tierBoundaryFor(opts.minScore),
      ...(opts.minRecords !== undefined ? { minRecords: opts.minRecords } : {}),
      ...(opts.minOrgs !== undefined ? { minOrgs: opts.minOrgs } : {}),
      context: { nonce: opts.context.nonce, audience: opts.context.audience, expiry },
    };
    try {
      presentation = await opts.obtain!(request);
    } catch {
      return { allowed: false, reason: 'no_presentation', agent };
    }
    if (presentation === undefined || presentation === null) return { allowed: false, reason: 'no_presentation', agent };
  }
  const expectations: Expectations = { agent, minScore: opts.minScore, context: { nonce: opts.context.nonce, audience: opts.context.audience }, maxAgeS: opts.maxAgeS };
  if (opts.minRecords !== undefined) expectations.minRecords = opts.minRecords;
  if (opts.minOrgs !== undefined) expectations.minOrgs = opts.minOrgs;
  const verification = await opts.verifier.verifyPresentation(presentation, expectations);
  if (!verification.ok) return { allowed: false, reason: verification.reason, agent, verification };
  if (verification.checkpoint?.signer !== opts.aggregator) return { allowed: false, reason: 'aggregator_mismatch', agent, verification };
  return { allowed: true, reason: 'ok', agent, verification };
}
