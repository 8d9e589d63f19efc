/**
 * A threshold presentation as a W3C Verifiable Presentation (VC Data Model 2.0), and back.
 * Pure and browser-safe: no Node built-in, no network (the contexts are identifiers, never
 * fetched; `ZKTRUST_CONTEXT_V1_DOCUMENT` is the published document for a JSON-LD loader).
 *
 *   {
 *     "@context": ["https://www.w3.org/ns/credentials/v2", ZKTRUST_CONTEXT_V1],
 *     "type": ["VerifiablePresentation"],
 *     "holder": <the agent's did:key>,
 *     "verifiableCredential": [{
 *       "@context": [...the same two...],
 *       "type": ["VerifiableCredential", "ZkTrustThresholdCredential"],
 *       "issuer": <the aggregator's did:key: the checkpoint's signer>,
 *       "validFrom": <the checkpoint's time>, "validUntil": <the context's expiry>,
 *       "credentialSubject": { "id": <the agent>, "minScore", "tier", "minRecords", "minOrgs",
 *                              "scorePolicy": <the policy hash> }
 *     }],
 *     "proof": { "type": "ZkTrustThresholdProof", "challenge": <the verifier's nonce>,
 *                "domain": <the audience>, "expires": <the expiry>, "presentationVersion",
 *                "circuit", "circuitConfig", "groth16Proof", "publicSignals",
 *                "checkpoint", "keySet", "verificationKey" }
 *   }
 *
 * The credential states what the proof proves (the proven minimum score and its tier, never
 * the hidden score) and carries no proof of its own: it is rebuilt from the presentation's
 * proof, and `fromVerifiablePresentation` refuses a VP that is not exactly the one its proof
 * gives (another holder, issuer, subject, claim, validity period or context). The proof is no
 * Data Integrity cryptosuite: it does not sign the document. It is the zktrust presentation
 * itself (docs/protocol.md, "Presentations"), its nonce and audience as `challenge` and
 * `domain`, its expiry as `expires`, and its structured parts as JSON literals (`@json`).
 * Every term is defined by the VC 2.0 context or by `src/interop/contexts/zktrust-v1.json`,
 * with no `@vocab`: the VP expands in JSON-LD safe mode (test/unit/vc.test.ts).
 * @module
 */
import { canonicalJson } from '../crypto/canonical.ts';
import { EXPIRY_BITS } from '../crypto/context.ts';
import { assertInt, assertNonEmpty, assertObject, describe } from '../crypto/field.ts';
import { tier as tierOf, type Tier } from '../crypto/score-policy.ts';
import type { Presentation } from '../protocol/wire.ts';
import { THRESHOLD_PUBLIC_SIGNALS } from '../state/threshold-input.ts';
import zktrustContextV1 from './contexts/zktrust-v1.json' with { type: 'json' };

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null) for (const v of Object.values(x)) deepFreeze(v);
  return Object.freeze(x);
}

/** The VC Data Model 2.0 base context. */
export const VC_CONTEXT_V2 = 'https://www.w3.org/ns/credentials/v2';
/** The zktrust JSON-LD context's URL: an identifier; its document is `ZKTRUST_CONTEXT_V1_DOCUMENT`. */
export const ZKTRUST_CONTEXT_V1 = 'https://zktrust.dev/contexts/v1';
/** The zktrust context document (src/interop/contexts/zktrust-v1.json), for a local JSON-LD document loader. */
export const ZKTRUST_CONTEXT_V1_DOCUMENT: { readonly '@context': Readonly<Record<string, unknown>> } = deepFreeze(structuredClone(zktrustContextV1));
export const THRESHOLD_CREDENTIAL_TYPE = 'ZkTrustThresholdCredential';
export const THRESHOLD_PROOF_TYPE = 'ZkTrustThresholdProof';

const CONTEXTS = [VC_CONTEXT_V2, ZKTRUST_CONTEXT_V1] as const;

/** The credential of a threshold proof: "the subject's score under `scorePolicy` is at least `minScore`". */
export interface ThresholdCredential {
  '@context': [typeof VC_CONTEXT_V2, typeof ZKTRUST_CONTEXT_V1];
  type: ['VerifiableCredential', typeof THRESHOLD_CREDENTIAL_TYPE];
  /** The aggregator's did:key (the checkpoint's signer). */
  issuer: string;
  /** The checkpoint's time: the state the statement is about. */
  validFrom: string;
  /** The presentation's expiry. */
  validUntil: string;
  credentialSubject: { id: string; minScore: number; tier: Tier; minRecords: number; minOrgs: number; scorePolicy: string };
}

/** The proof of a threshold VP: the zktrust presentation's parts, its context as challenge, domain and expires. */
export interface ThresholdProof {
  type: typeof THRESHOLD_PROOF_TYPE;
  /** The verifier's nonce. */
  challenge: string;
  /** The verifier's audience. */
  domain: string;
  expires: string;
  presentationVersion: number;
  circuit: string;
  circuitConfig: string;
  groth16Proof: unknown;
  publicSignals: string[];
  checkpoint: Presentation['checkpoint'];
  keySet?: Presentation['keySet'];
  verificationKey?: Presentation['verificationKey'];
}

export interface ThresholdVerifiablePresentation {
  '@context': [typeof VC_CONTEXT_V2, typeof ZKTRUST_CONTEXT_V1];
  type: ['VerifiablePresentation'];
  /** The agent's did:key. */
  holder: string;
  verifiableCredential: [ThresholdCredential];
  proof: ThresholdProof;
}

/** 9999-12-31T23:59:59.999Z: an XSD dateTime has a four-digit year. */
const MAX_TIME_MS = 253_402_300_799_999;

/** A time in milliseconds as an XSD dateTimeStamp in UTC, without a fraction when it is whole seconds. */
function isoTime(ms: number, name: string): string {
  assertInt(ms, name, 0, MAX_TIME_MS);
  const s = new Date(ms).toISOString();
  return s.endsWith('.000Z') ? `${s.slice(0, -5)}Z` : s;
}

/** Whole Unix seconds of a dateTime written exactly as `isoTime` writes it. */
function parseSeconds(s: unknown, name: string): number {
  if (typeof s !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(s)) throw new TypeError(`${name} must be a UTC dateTime in whole seconds (YYYY-MM-DDThh:mm:ssZ), got ${describe(s)}`);
  const ms = Date.parse(s);
  if (!Number.isSafeInteger(ms) || ms < 0 || isoTime(ms, name) !== s) throw new RangeError(`${name} is not a canonical time`);
  return ms / 1000;
}

const SIGNAL_INDEX = Object.fromEntries(THRESHOLD_PUBLIC_SIGNALS.map((n, i) => [n, i])) as Record<(typeof THRESHOLD_PUBLIC_SIGNALS)[number], number>;

/** A public signal by name, as the canonical decimal it must be. */
function signal(signals: unknown[], name: (typeof THRESHOLD_PUBLIC_SIGNALS)[number]): bigint {
  const s = signals[SIGNAL_INDEX[name]];
  if (typeof s !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(s)) throw new TypeError(`presentation.publicSignals (${name}) must be a canonical decimal string, got ${describe(s)}`);
  return BigInt(s);
}

function safeNumber(x: bigint, name: string, max = BigInt(Number.MAX_SAFE_INTEGER)): number {
  if (x > max) throw new RangeError(`${name} must be at most ${max}`);
  return Number(x);
}

/**
 * The Verifiable Presentation of a threshold presentation (the module comment gives its shape).
 * @throws TypeError / RangeError naming the member of a presentation that is not one: a
 *   version other than 1 or 2, another circuit, an empty nonce or audience, an expiry or
 *   checkpoint time that is no integer or lies past year 9999, public signals that are not
 *   seven canonical decimals, a minimum score above 1,000.
 * @example const vp = toVerifiablePresentation(await agent.present({ minScore: 700, context }));
 */
export function toVerifiablePresentation(presentation: Presentation): ThresholdVerifiablePresentation {
  const p = presentation as unknown;
  assertObject(p, 'presentation');
  if (p.version !== 1 && p.version !== 2) throw new RangeError(`presentation.version must be 1 or 2, got ${describe(p.version)}`);
  if (p.circuit !== 'threshold') throw new RangeError(`presentation.circuit must be "threshold", got ${describe(p.circuit)}`);
  assertNonEmpty(p.config, 'presentation.config');
  assertNonEmpty(p.agent, 'presentation.agent');
  if (p.proof === undefined) throw new TypeError('presentation.proof is missing');
  assertObject(p.context, 'presentation.context');
  assertNonEmpty(p.context.nonce, 'presentation.context.nonce');
  assertNonEmpty(p.context.audience, 'presentation.context.audience');
  // Unix seconds below 2^40 (src/crypto/context.ts) that an XSD dateTime can write (year 9999 at most).
  assertInt(p.context.expiry, 'presentation.context.expiry', 0, Math.min(2 ** EXPIRY_BITS - 1, Math.floor(MAX_TIME_MS / 1000)));
  assertObject(p.checkpoint, 'presentation.checkpoint');
  assertNonEmpty(p.checkpoint.signer, 'presentation.checkpoint.signer');
  assertObject(p.checkpoint.body, 'presentation.checkpoint.body');
  const signals = p.publicSignals;
  if (!Array.isArray(signals) || signals.length !== THRESHOLD_PUBLIC_SIGNALS.length) throw new TypeError(`presentation.publicSignals must be an array of ${THRESHOLD_PUBLIC_SIGNALS.length} decimal strings`);
  const minScore = signal(signals, 'minScore');
  if (minScore > 1000n) throw new RangeError('presentation.publicSignals (minScore) must be at most 1000');
  const expires = isoTime(p.context.expiry * 1000, 'presentation.context.expiry');
  const credential: ThresholdCredential = {
    '@context': [...CONTEXTS],
    type: ['VerifiableCredential', THRESHOLD_CREDENTIAL_TYPE],
    issuer: p.checkpoint.signer,
    validFrom: isoTime(p.checkpoint.body.time as number, 'presentation.checkpoint.body.time'),
    validUntil: expires,
    credentialSubject: {
      id: p.agent,
      minScore: Number(minScore),
      tier: tierOf(minScore),
      minRecords: safeNumber(signal(signals, 'minRecords'), 'presentation.publicSignals (minRecords)'),
      minOrgs: safeNumber(signal(signals, 'minOrgs'), 'presentation.publicSignals (minOrgs)'),
      scorePolicy: signal(signals, 'policyHash').toString(),
    },
  };
  const proof: ThresholdProof = {
    type: THRESHOLD_PROOF_TYPE,
    challenge: p.context.nonce,
    domain: p.context.audience,
    expires,
    presentationVersion: p.version,
    circuit: p.circuit,
    circuitConfig: p.config,
    groth16Proof: p.proof,
    publicSignals: signals as string[],
    checkpoint: p.checkpoint as unknown as ThresholdProof['checkpoint'],
    ...(p.keySet !== undefined ? { keySet: p.keySet as ThresholdProof['keySet'] } : {}),
    ...(p.verificationKey !== undefined ? { verificationKey: p.verificationKey as ThresholdProof['verificationKey'] } : {}),
  };
  // A copy: the VP shares nothing with the presentation it was made from.
  return structuredClone({ '@context': [...CONTEXTS], type: ['VerifiablePresentation'], holder: p.agent, verifiableCredential: [credential], proof });
}

/** Whether `x` is written as JSON-LD (has an `@context`): a VP, never a plain zktrust presentation. */
export function isVerifiablePresentation(x: unknown): boolean {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && Object.hasOwn(x, '@context');
}

/** The first member at which two JSON values differ, for an error that names it. */
function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return a === b ? undefined : path;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return path;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) {
    const d = firstDifference(ra[k], rb[k], Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`);
    if (d) return d;
  }
  return undefined;
}

/** Where each member of a presentation is in its VP, for errors that name the VP's member. */
const VP_MEMBER: ReadonlyArray<[string, string]> = [
  ['presentation.context.nonce', 'vp.proof.challenge'],
  ['presentation.context.audience', 'vp.proof.domain'],
  ['presentation.context.expiry', 'vp.proof.expires'],
  ['presentation.agent', 'vp.holder'],
  ['presentation.version', 'vp.proof.presentationVersion'],
  ['presentation.config', 'vp.proof.circuitConfig'],
  ['presentation.proof', 'vp.proof.groth16Proof'],
  ['presentation.', 'vp.proof.'],
];

/**
 * The threshold presentation inside a VP made by `toVerifiablePresentation`. The VP must be
 * exactly the one its proof gives, member for member: the credential is checked, not read.
 * This checks the form only; `verifyPresentation` (zktrust/verifier) accepts either form and
 * checks everything else.
 * @throws TypeError / RangeError naming the first member that is not what the proof implies
 *   (for example `vp.holder`, `vp.verifiableCredential[0].credentialSubject.minScore`).
 * @example const presentation = fromVerifiablePresentation(JSON.parse(body));
 */
export function fromVerifiablePresentation(vp: unknown): Presentation {
  assertObject(vp, 'vp');
  assertObject(vp.proof, 'vp.proof');
  const proof = vp.proof;
  const p: Record<string, unknown> = {
    version: proof.presentationVersion,
    circuit: proof.circuit,
    config: proof.circuitConfig,
    agent: vp.holder,
    proof: proof.groth16Proof,
    publicSignals: proof.publicSignals,
    context: { nonce: proof.challenge, audience: proof.domain, expiry: parseSeconds(proof.expires, 'vp.proof.expires') },
    checkpoint: proof.checkpoint,
  };
  if (Object.hasOwn(proof, 'keySet')) p.keySet = proof.keySet;
  if (Object.hasOwn(proof, 'verificationKey')) p.verificationKey = proof.verificationKey;
  let rebuilt: ThresholdVerifiablePresentation;
  try {
    rebuilt = toVerifiablePresentation(p as unknown as Presentation);
  } catch (e) {
    const m = e instanceof Error ? e.message : String(e);
    const [from, to] = VP_MEMBER.find(([from]) => m.startsWith(from)) ?? ['', ''];
    throw new (e instanceof RangeError ? RangeError : TypeError)(to + m.slice(from.length));
  }
  const d = firstDifference(vp, rebuilt, 'vp');
  if (d) throw new RangeError(`${d} is not what the VP's proof proves`);
  return structuredClone(p) as unknown as Presentation;
}
