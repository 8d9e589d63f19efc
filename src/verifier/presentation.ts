/**
 * Verifying threshold presentations in-process: no network, no database, browser-safe.
 *
 *   const verifier = createVerifier({ aggregatorKeys: ['did:key:z6Mk...'] });
 *   const result = await verifier.verifyPresentation(presentation, {
 *     agent: 'did:key:z6Mk...', minScore: 700, context: { nonce, audience }, maxAgeS: 3600 });
 *   if (result.ok) allow(result.tier);
 *
 * A presentation comes as zktrust JSON (docs/protocol.md, "Presentations") or as the W3C
 * Verifiable Presentation of one (src/interop/vc.ts): anything with an `@context` is read as a
 * VP, which must be exactly the VP of its own proof (else `malformed`), and is then checked as
 * the presentation inside it, with one check more: its `challenge` and `domain` must be the
 * verifier's own nonce and audience (step 4, else `context_mismatch`).
 *
 * It checks, in order:
 *   1. the checkpoint's signature by a trusted aggregator;
 *   2. the key set the checkpoint names (its keySetHash): the presentation's key set
 *      descriptor must hash to it and its threshold verification key must hash to the
 *      descriptor's entry, or the key set must be one the verifier was given in an
 *      aggregator-signed key document; the checkpoint's key mode and configuration must be
 *      the descriptor's;
 *   3. that the keys can be trusted: development keys (mode `dev`, or any key whose alpha or
 *      beta is the development seed's, whatever mode it claims) are refused unless
 *      `allowInsecureKeys`; a mode below `requireKeyMode` (default `local`) is refused; when
 *      `ceremony` is required, the key set must start from a published powers-of-tau file
 *      (or one listed in `trustedPtauHashes`), and a ceremony over any other phase 1 counts
 *      as forgeable by its operator; `trustedKeySets`, if given, pins the exact key sets;
 *   4. the number and canonical form of the public signals, and that each equals what the
 *      expectations imply: root = the signed checkpoint's state root, agent, a minimum score
 *      at least the one asked, records, organisations, the policy hash (the key set's, the
 *      checkpoint's, and an accepted policy), the context hash of the verifier's own nonce,
 *      audience and the presentation's expiry (a VP's challenge and domain: that nonce and
 *      audience themselves);
 *   5. the expiry and the checkpoint's age;
 *   6. the Groth16 proof.
 * Every result names the key mode, key set and who could forge proofs under it once step 2
 * has established them. A presentation from a stranger never throws: anything malformed
 * (not plain JSON data, over MAX_PRESENTATION_CHARS, a wrong shape, count or form, a value
 * outside its field, a VP that is not exactly the VP of its proof) is
 * `{ ok: false, reason: 'malformed' }`. Only the caller's own options and expectations throw
 * (TypeError or RangeError naming the parameter). Accepted statements are cached.
 *
 * Groth16 proofs are malleable (negating A and B gives another valid proof of the same
 * statement): nothing here, nor anywhere in zktrust, uses proof bytes as an identifier; the
 * decision cache is keyed by the statement.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalJson, signingBytes } from '../crypto/canonical.ts';
import { contextHash } from '../crypto/context.ts';
import { verifyStrict } from '../crypto/ed25519.ts';
import { assertInt, assertNonEmpty, assertObject, assertString, describe } from '../crypto/field.ts';
import { identityField, publicKeyFromDid } from '../crypto/identity.ts';
import { FORGEABLE_BY, KEY_MODES, isPublishedPhase1, keySetHash, parseKeySetDescriptor, vkeyHash, type ForgeableBy, type KeyMode, type KeySetDescriptor } from '../crypto/key-set.ts';
import { ACCEPTED_POLICY_HASHES, POLICY_V1, policyHash, tier as tierOf, type Tier } from '../crypto/score-policy.ts';
import { fromVerifiablePresentation, isVerifiablePresentation } from '../interop/vc.ts';
import { THRESHOLD_PUBLIC_SIGNALS } from '../state/threshold-input.ts';
import { parsePublicSignals, verifyGroth16, type Groth16VerificationKey } from './groth16.ts';
import { isAffineVerificationKey, isDevelopmentKey } from './keys.ts';
import { LEGACY_V1_THRESHOLD_KEYS } from './legacy-keys.ts';

export type ReasonCode =
  | 'ok'
  | 'malformed'
  | 'untrusted_aggregator'
  | 'bad_checkpoint_signature'
  | 'unknown_configuration'
  | 'unknown_key_set'
  | 'key_set_mismatch'
  | 'insecure_keys'
  | 'key_mode_not_accepted'
  | 'untrusted_key_set'
  | 'unpublished_phase1'
  | 'agent_mismatch'
  | 'root_mismatch'
  | 'score_below_expected'
  | 'records_below_expected'
  | 'orgs_below_expected'
  | 'policy_mismatch'
  | 'context_mismatch'
  | 'expired'
  | 'stale_checkpoint'
  | 'invalid_proof';

export interface Expectations {
  /** did:key of the agent the verifier is talking to. */
  agent: string;
  /** The least score the verifier accepts (0..1000). */
  minScore: number;
  minRecords?: number;
  minOrgs?: number;
  /** The verifier's own nonce and audience for this request (non-empty strings). */
  context: { nonce: string; audience: string };
  /** The oldest checkpoint accepted, in seconds. */
  maxAgeS: number;
}

export interface VerificationResult {
  ok: boolean;
  reason: ReasonCode;
  /** The tier of the proven minimum score (not of the hidden score). */
  tier?: Tier;
  /** The minimum score the proof establishes. */
  provenMinScore?: number;
  checkpoint?: { sequence: number; stateRoot: string; time: number; signer: string };
  /** The key set the proof was made under, once the checkpoint names it. */
  keyMode?: KeyMode;
  keySetHash?: string;
  /** Who could forge a proof under that key set: anyone (dev), its operator (local), or all participants of a ceremony phase together. */
  forgeableBy?: ForgeableBy;
  cached?: boolean;
}

export interface VerifierOptions {
  /** did:key of every trusted aggregator. */
  aggregatorKeys: readonly string[];
  /**
   * Key documents of trusted aggregators (the `document` of GET /v1/keys), so that
   * presentations need not carry their key set. Each must be signed by a trusted aggregator.
   */
  keyDocuments?: readonly unknown[];
  /** Accept development keys (public seed: anyone can forge). Tests and demos only. */
  allowInsecureKeys?: boolean;
  /** The least key mode accepted: 'local' (default) or 'ceremony'. */
  requireKeyMode?: 'local' | 'ceremony';
  /** If given, only presentations under these key sets (hashes) are accepted. */
  trustedKeySets?: readonly string[];
  /** Phase-1 files (blake2b-512, hex) accepted for ceremony keys besides the published ones. */
  trustedPtauHashes?: readonly string[];
  /** Current time in milliseconds (tests). */
  now?: () => number;
  /** Largest number of cached decisions. */
  cacheSize?: number;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const fromHex = (s: string) => Uint8Array.from(s.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);
const HEX64 = /^[0-9a-f]{64}$/;

/** sha256 of a verification key as the manifest records it (the committed file's bytes). */
export function verificationKeyHash(vkey: unknown): string {
  return hex(sha256(new TextEncoder().encode(JSON.stringify(vkey, null, 2) + '\n')));
}

export interface Verifier {
  verifyPresentation(presentation: unknown, expectations: Expectations): Promise<VerificationResult>;
}

/** A key set the verifier may use: what it says of itself and its threshold verification key. */
interface KnownKeySet {
  descriptor: Pick<KeySetDescriptor, 'config' | 'mode' | 'policyHash' | 'phase1'>;
  threshold: Groth16VerificationKey;
}

/** Policies whose presentations this verifier accepts (their hashes, decimal): v1 and v2. */
const ACCEPTED_POLICIES = new Set(ACCEPTED_POLICY_HASHES);

/** A presentation found malformed while it is checked (never escapes decide()). */
class Malformed extends Error {}

/**
 * The largest presentation read, in characters of its canonical JSON. A real one is about
 * 6 KB (a descriptor may list at most 8 circuits of 256 contributions, about 270 KB): the
 * bound caps what a stranger makes the verifier hash and keep.
 */
export const MAX_PRESENTATION_CHARS = 1 << 20;

/**
 * A stranger's presentation as a fresh copy of plain JSON data, read exactly once, or
 * undefined if it is not an object of JSON data (cycles, nesting too deep for the stack,
 * symbols, functions, class instances, non-finite numbers) or is too large. Every check then
 * sees the same values: a getter or a proxy cannot show the statement checks one public
 * signal and the proof another. JSON.parse makes a `__proto__` key an own property, never a
 * prototype.
 */
function readPresentation(x: unknown): Record<string, unknown> | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return undefined;
  try {
    const json = canonicalJson(x);
    return json.length <= MAX_PRESENTATION_CHARS ? JSON.parse(json) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The decision cache's key: the whole presentation (its proof included), its form (a VP binds
 * its nonce and audience, a plain presentation does not) and what the caller expects, hashed.
 * A hit means these very bytes verified for these expectations; a malleated copy of the proof
 * (Groth16 proofs are malleable: negating A and B gives another valid proof of the same
 * statement) misses the cache and is verified afresh, so the cache is a memo of exact bytes
 * and identifies nothing.
 */
function decisionKey(p: Record<string, unknown>, form: 'json' | 'vp', e: Expectations): string {
  const expected = { agent: e.agent, minScore: e.minScore, minRecords: e.minRecords, minOrgs: e.minOrgs, context: { nonce: e.context.nonce, audience: e.context.audience }, maxAgeS: e.maxAgeS };
  return hex(sha256(new TextEncoder().encode(canonicalJson({ presentation: p, form, expected }))));
}

/**
 * Checks an aggregator-signed key document and returns its key set.
 * @throws RangeError / TypeError naming what is wrong.
 */
function keySetOfDocument(doc: unknown, name: string, trusted: ReadonlyMap<string, Uint8Array>): [string, KnownKeySet] {
  assertObject(doc, name);
  assertObject(doc.body, `${name}.body`);
  assertString(doc.signer, `${name}.signer`);
  assertString(doc.signature, `${name}.signature`);
  const key = trusted.get(doc.signer);
  if (!key) throw new RangeError(`${name} is not signed by a trusted aggregator`);
  if (!/^[0-9a-f]{128}$/.test(doc.signature) || !verifyStrict(fromHex(doc.signature), signingBytes('key-document', doc.body), key)) throw new RangeError(`${name}: the aggregator's signature does not verify`);
  const body = doc.body;
  if (body.aggregator !== doc.signer) throw new RangeError(`${name}: the document names another aggregator than its signer`);
  const descriptor = parseKeySetDescriptor(body.descriptor, `${name}.body.descriptor`);
  const hash = keySetHash(descriptor);
  if (body.keySetHash !== hash) throw new RangeError(`${name}: keySetHash is not the descriptor's hash`);
  assertObject(body.verificationKeys, `${name}.body.verificationKeys`);
  const threshold = body.verificationKeys.threshold as Groth16VerificationKey | undefined;
  if (!descriptor.circuits.threshold || threshold === undefined || vkeyHash(threshold) !== descriptor.circuits.threshold.vkey) throw new RangeError(`${name}: the threshold verification key does not hash to the descriptor's`);
  return [hash, { descriptor, threshold }];
}

/**
 * A verifier that trusts the given aggregator keys (see the module comment for the options).
 * @throws TypeError / RangeError for malformed options, including a key document that is
 *   not signed by a trusted aggregator or whose keys do not hash to its key set.
 */
export function createVerifier(opts: VerifierOptions): Verifier {
  assertObject(opts, 'options');
  if (!Array.isArray(opts.aggregatorKeys) || opts.aggregatorKeys.length === 0) throw new TypeError('options.aggregatorKeys must be a non-empty array of did:key strings');
  const trusted = new Map(opts.aggregatorKeys.map((d, i) => {
    assertString(d, `options.aggregatorKeys[${i}]`);
    return [d, publicKeyFromDid(d)] as const;
  }));
  if (opts.keyDocuments !== undefined && !Array.isArray(opts.keyDocuments)) throw new TypeError('options.keyDocuments must be an array');
  const known = new Map((opts.keyDocuments ?? []).map((d, i) => keySetOfDocument(d, `options.keyDocuments[${i}]`, trusted)));
  if (opts.allowInsecureKeys !== undefined && typeof opts.allowInsecureKeys !== 'boolean') throw new TypeError('options.allowInsecureKeys must be a boolean');
  if (opts.requireKeyMode !== undefined && opts.requireKeyMode !== 'local' && opts.requireKeyMode !== 'ceremony') throw new RangeError("options.requireKeyMode must be 'local' or 'ceremony'");
  const minMode = opts.requireKeyMode ?? (opts.allowInsecureKeys ? 'dev' : 'local');
  for (const [field, list, pattern] of [['trustedKeySets', opts.trustedKeySets, HEX64], ['trustedPtauHashes', opts.trustedPtauHashes, /^[0-9a-f]{128}$/]] as const) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new TypeError(`options.${field} must be an array`);
    list.forEach((h, i) => {
      assertString(h, `options.${field}[${i}]`);
      if (!pattern.test(h)) throw new RangeError(`options.${field}[${i}] must be lower-case hex of the right length`);
    });
  }
  const pinned = opts.trustedKeySets ? new Set(opts.trustedKeySets) : undefined;
  for (const [config, k] of Object.entries(LEGACY_V1_THRESHOLD_KEYS)) {
    if (verificationKeyHash(k.threshold) !== k.thresholdHash) throw new RangeError(`the bundled policy v1 key of ${config} does not match its pinned hash`);
  }
  const now = opts.now ?? (() => Date.now());
  const cacheSize = opts.cacheSize ?? 10_000;
  const decisions = new Map<string, { result: VerificationResult; until: number }>();

  // Shape checks of stranger input: a failure is `malformed`, never an exception.
  const need = <T>(ok: boolean, x: T): T => {
    if (!ok) throw new Malformed();
    return x;
  };
  const obj = (x: unknown) => need(typeof x === 'object' && x !== null && !Array.isArray(x), x as Record<string, unknown>);
  const str = (x: unknown, pattern?: RegExp) => need(typeof x === 'string' && (!pattern || pattern.test(x)), x as string);
  const int = (x: unknown, min: number, max: number) => need(typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max, x as number);

  /** `bound`: the presentation came as a VP, whose nonce and audience must be the expected ones. */
  async function decide(p: Record<string, unknown>, bound: boolean, e: Expectations): Promise<VerificationResult & { until?: number }> {
    const fail = (reason: ReasonCode, extra: Partial<VerificationResult> = {}): VerificationResult => ({ ok: false, reason, ...extra });
    need(p.circuit === 'threshold' && (p.version === 1 || p.version === 2), null);
    const config = str(p.config, /^[a-z][a-z0-9-]{0,40}$/);
    str(p.agent);
    const ctx = obj(p.context);
    const expiry = int(ctx.expiry, 0, 2 ** 40 - 1);
    const cp = obj(p.checkpoint);
    const body = obj(cp.body);
    const signer = str(cp.signer);
    const signature = str(cp.signature, /^[0-9a-f]{128}$/);
    const sequence = int(body.sequence, 1, Number.MAX_SAFE_INTEGER);
    const time = int(body.time, 0, Number.MAX_SAFE_INTEGER);
    const stateRoot = str(body.stateRoot);
    str(body.policyHash);
    str(body.config);
    let signals: bigint[];
    try {
      signals = parsePublicSignals(p.publicSignals, THRESHOLD_PUBLIC_SIGNALS.length, 'presentation.publicSignals');
    } catch {
      throw new Malformed();
    }

    // 1. The checkpoint is signed by a trusted aggregator.
    const signerKey = trusted.get(signer);
    if (!signerKey) return fail('untrusted_aggregator');
    if (!verifyStrict(fromHex(signature), signingBytes('checkpoint', body), signerKey)) return fail('bad_checkpoint_signature');

    // 2. The key set the checkpoint names.
    let hash: string;
    let set: KnownKeySet | undefined;
    if (p.version === 1) {
      // Before key sets, checkpoints named none: only the repository's development keys of
      // policy v1 existed (bundled, legacy-keys.ts); such a presentation names that key.
      const legacy = Object.hasOwn(LEGACY_V1_THRESHOLD_KEYS, config) ? LEGACY_V1_THRESHOLD_KEYS[config] : undefined;
      if (!legacy || body.config !== config) return fail('unknown_configuration');
      hash = legacy.thresholdHash;
      set = { descriptor: { config, mode: 'dev', policyHash: policyHash(POLICY_V1).toString(), phase1: { kind: 'seed', seed: 'zktrust-insecure-development-seed-v1' } }, threshold: legacy.threshold };
    } else {
      hash = str(body.keySetHash, HEX64);
      const mode = str(body.keyMode);
      if (p.keySet !== undefined) {
        let descriptor: KeySetDescriptor;
        try {
          descriptor = parseKeySetDescriptor(p.keySet, 'presentation.keySet');
        } catch {
          throw new Malformed();
        }
        if (keySetHash(descriptor) !== hash) return fail('key_set_mismatch');
        const vkey = obj(p.verificationKey) as unknown as Groth16VerificationKey;
        if (!descriptor.circuits.threshold || vkeyHash(vkey) !== descriptor.circuits.threshold.vkey) return fail('key_set_mismatch');
        set = { descriptor, threshold: vkey };
      } else {
        set = known.get(hash);
        if (!set) return fail('unknown_key_set');
      }
      if (set.descriptor.mode !== mode) return fail('key_set_mismatch');
      if (set.descriptor.config !== config || body.config !== config) return fail('unknown_configuration');
    }
    // The threshold circuit's number of inputs, checked before any point of the key is read:
    // a signed key with thousands of IC points costs nothing to refuse.
    need(isAffineVerificationKey(set.threshold) && set.threshold.nPublic === signals.length, null);
    const claimed = set.descriptor.mode;
    // A key whose phase-1 secrets are the development seed's is a development key, whatever it claims.
    const mode: KeyMode = claimed === 'dev' || isDevelopmentKey(set.threshold) ? 'dev' : claimed;
    // A ceremony over a phase 1 the verifier does not know to be public is worth what its
    // operator's word is worth: whoever chose that file may know its secrets.
    const publicPhase1 = mode !== 'ceremony' || isPublishedPhase1(set.descriptor.phase1, opts.trustedPtauHashes);
    const keyInfo = { keyMode: mode, keySetHash: hash, forgeableBy: publicPhase1 ? FORGEABLE_BY[mode] : FORGEABLE_BY.local };

    // 3. Keys the verifier can trust.
    if (mode === 'dev' && !opts.allowInsecureKeys) return fail('insecure_keys', keyInfo);
    if (KEY_MODES.indexOf(mode) < KEY_MODES.indexOf(minMode)) return fail('key_mode_not_accepted', keyInfo);
    if (pinned && !pinned.has(hash)) return fail('untrusted_key_set', keyInfo);
    if (!publicPhase1 && minMode === 'ceremony') return fail('unpublished_phase1', keyInfo);

    // 4. Each public signal is what the expectations imply.
    const [root, agent, minScore, minRecords, minOrgs, ph, ctxHash] = signals as [bigint, bigint, bigint, bigint, bigint, bigint, bigint];
    if (p.agent !== e.agent || agent !== identityField(publicKeyFromDid(e.agent))) return fail('agent_mismatch', keyInfo);
    if (root.toString() !== stateRoot) return fail('root_mismatch', keyInfo);
    if (minScore < BigInt(e.minScore) || minScore > 1000n) return fail('score_below_expected', keyInfo);
    if (minRecords < BigInt(e.minRecords ?? 0)) return fail('records_below_expected', keyInfo);
    if (minOrgs < BigInt(e.minOrgs ?? 0)) return fail('orgs_below_expected', keyInfo);
    const policy = ph.toString();
    if (!ACCEPTED_POLICIES.has(policy) || body.policyHash !== policy || set.descriptor.policyHash !== policy) return fail('policy_mismatch', keyInfo);
    if (bound && (ctx.nonce !== e.context.nonce || ctx.audience !== e.context.audience)) return fail('context_mismatch', keyInfo);
    if (ctxHash !== contextHash({ nonce: e.context.nonce, audience: e.context.audience, expiry })) return fail('context_mismatch', keyInfo);
    // 5. Freshness.
    const t = now();
    if (expiry * 1000 <= t) return fail('expired', keyInfo);
    if (time + e.maxAgeS * 1000 < t) return fail('stale_checkpoint', keyInfo);
    // 6. The proof.
    let valid: boolean;
    try {
      valid = await verifyGroth16(set.threshold, signals, p.proof as never);
    } catch {
      throw new Malformed();
    }
    if (!valid) return fail('invalid_proof', keyInfo);
    return {
      ok: true,
      reason: 'ok',
      tier: tierOf(minScore),
      provenMinScore: Number(minScore),
      checkpoint: { sequence, stateRoot, time, signer },
      ...keyInfo,
      until: Math.min(expiry * 1000, time + e.maxAgeS * 1000),
    };
  }

  return {
    async verifyPresentation(presentation, expectations) {
      assertObject(expectations, 'expectations');
      assertString(expectations.agent, 'expectations.agent');
      publicKeyFromDid(expectations.agent);
      assertInt(expectations.minScore, 'expectations.minScore', 0, 1000);
      if (expectations.minRecords !== undefined) assertInt(expectations.minRecords, 'expectations.minRecords', 0, 2 ** 48 - 1);
      if (expectations.minOrgs !== undefined) assertInt(expectations.minOrgs, 'expectations.minOrgs', 0, 2 ** 48 - 1);
      assertObject(expectations.context, 'expectations.context');
      assertNonEmpty(expectations.context.nonce, 'expectations.context.nonce');
      assertNonEmpty(expectations.context.audience, 'expectations.context.audience');
      assertInt(expectations.maxAgeS, 'expectations.maxAgeS', 0, 10 * 365 * 86_400);
      const read = readPresentation(presentation);
      if (!read) return { ok: false, reason: 'malformed' };
      const bound = isVerifiablePresentation(read);
      let p = read;
      if (bound) {
        try {
          p = fromVerifiablePresentation(read) as unknown as Record<string, unknown>;
        } catch {
          return { ok: false, reason: 'malformed' };
        }
      }
      const key = decisionKey(p, bound ? 'vp' : 'json', expectations);
      const hit = decisions.get(key);
      if (hit && now() < hit.until) return { ...hit.result, cached: true };
      let decided: VerificationResult & { until?: number };
      try {
        decided = await decide(p, bound, expectations);
      } catch (e) {
        if (e instanceof Malformed) return { ok: false, reason: 'malformed' };
        throw e;
      }
      const { until, ...result } = decided;
      if (until !== undefined) {
        if (decisions.size >= cacheSize) decisions.delete(decisions.keys().next().value!);
        decisions.set(key, { result, until });
      }
      return result;
    },
  };
}
