/**
 * Verifying threshold presentations in-process: no network, no database, browser-safe.
 *
 *   const verifier = createVerifier({ aggregatorKeys: ['did:key:z6Mk...'] });
 *   const result = await verifier.verifyPresentation(presentation, {
 *     agent: 'did:key:z6Mk...', minScore: 700, context: { nonce, audience }, maxAgeS: 3600 });
 *   if (result.ok) allow(result.tier);
 *
 * It checks, in order: the checkpoint's signature by a trusted aggregator key; the circuit
 * configuration and its verification key against the manifest; the number and canonical
 * form of the public signals; that each signal equals what the expectations imply (root =
 * the signed checkpoint's state root, agent, a minimum score at least the one asked, records,
 * organisations, a policy hash of ACCEPTED_POLICY_HASHES that the checkpoint names too, the
 * context hash of the verifier's own nonce, audience and the presentation's expiry); the
 * expiry and the checkpoint's age; and the Groth16 proof, under the configuration's key for
 * that policy (policy v1's presentations under the v1 keys, legacy-keys.ts).
 * Malformed input throws TypeError or RangeError naming the parameter; any failed check
 * returns ok: false with a reason code. Decisions are cached.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalJson, signingBytes } from '../crypto/canonical.ts';
import { contextHash } from '../crypto/context.ts';
import { verifyStrict } from '../crypto/ed25519.ts';
import { describe } from '../crypto/field.ts';
import { identityField, publicKeyFromDid } from '../crypto/identity.ts';
import { ACCEPTED_POLICY_HASHES, POLICY_V1, policyHash, tier as tierOf, type Tier } from '../crypto/score-policy.ts';
import { THRESHOLD_PUBLIC_SIGNALS } from '../state/threshold-input.ts';
import { parsePublicSignals, verifyGroth16, type Groth16VerificationKey } from './groth16.ts';
import { BUNDLED_KEYS } from './keys.ts';
import { LEGACY_V1_THRESHOLD_KEYS } from './legacy-keys.ts';

export type ReasonCode =
  | 'ok'
  | 'untrusted_aggregator'
  | 'bad_checkpoint_signature'
  | 'unknown_configuration'
  | 'key_not_in_manifest'
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
  /** The verifier's own nonce and audience for this request. */
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
  cached?: boolean;
}

export interface VerifierOptions {
  /** did:key of every trusted aggregator. */
  aggregatorKeys: readonly string[];
  /** Verification keys by circuit configuration; the committed keys by default. */
  verificationKeys?: Record<string, Groth16VerificationKey>;
  /** Current time in milliseconds (tests). */
  now?: () => number;
  /** Largest number of cached decisions. */
  cacheSize?: number;
}

function assertString(x: unknown, name: string): asserts x is string {
  if (typeof x !== 'string') throw new TypeError(`${name} must be a string, got ${describe(x)}`);
}
function assertInt(x: unknown, name: string, min: number, max: number): asserts x is number {
  if (typeof x !== 'number' || !Number.isInteger(x)) throw new TypeError(`${name} must be an integer, got ${describe(x)}`);
  if (x < min || x > max) throw new RangeError(`${name} must be in [${min}, ${max}]`);
}
function assertObject(x: unknown, name: string): asserts x is Record<string, unknown> {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new TypeError(`${name} must be an object, got ${describe(x)}`);
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const fromHex = (s: string) => Uint8Array.from(s.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);

/** sha256 of a verification key as the manifest records it (the committed file's bytes). */
export function verificationKeyHash(vkey: unknown): string {
  return hex(sha256(new TextEncoder().encode(JSON.stringify(vkey, null, 2) + '\n')));
}

export interface Verifier {
  verifyPresentation(presentation: unknown, expectations: Expectations): Promise<VerificationResult>;
}

/**
 * A verifier that trusts the given aggregator keys.
 * @throws TypeError / RangeError for malformed options; RangeError for a verification key
 *   whose hash is not the manifest's.
 */
export function createVerifier(opts: VerifierOptions): Verifier {
  assertObject(opts, 'options');
  if (!Array.isArray(opts.aggregatorKeys) || opts.aggregatorKeys.length === 0) throw new TypeError('options.aggregatorKeys must be a non-empty array of did:key strings');
  const trusted = new Map(opts.aggregatorKeys.map((d, i) => {
    assertString(d, `options.aggregatorKeys[${i}]`);
    return [d, publicKeyFromDid(d)] as const;
  }));
  const keys: Record<string, Groth16VerificationKey> = { ...Object.fromEntries(Object.entries(BUNDLED_KEYS).map(([c, k]) => [c, k.threshold])), ...(opts.verificationKeys ?? {}) };
  for (const [config, vkey] of Object.entries(keys)) {
    const want = BUNDLED_KEYS[config]?.thresholdHash;
    if (!want || verificationKeyHash(vkey) !== want) throw new RangeError(`verificationKeys.${config} is not the manifest's threshold key`);
  }
  const now = opts.now ?? (() => Date.now());
  const cacheSize = opts.cacheSize ?? 10_000;
  const decisions = new Map<string, { result: VerificationResult; until: number }>();
  const accepted = new Set(ACCEPTED_POLICY_HASHES);
  const v1 = policyHash(POLICY_V1).toString();
  for (const [config, k] of Object.entries(LEGACY_V1_THRESHOLD_KEYS)) {
    if (verificationKeyHash(k.threshold) !== k.thresholdHash) throw new RangeError(`the bundled policy v1 key of ${config} does not match its pinned hash`);
  }

  async function decide(p: Record<string, unknown>, e: Expectations): Promise<VerificationResult & { until?: number }> {
    const fail = (reason: ReasonCode): VerificationResult => ({ ok: false, reason });
    // Shape (throws on malformed input).
    if (p.version !== 1 || p.circuit !== 'threshold') throw new RangeError('presentation must be a version 1 threshold presentation');
    assertString(p.config, 'presentation.config');
    assertString(p.agent, 'presentation.agent');
    assertObject(p.context, 'presentation.context');
    assertObject(p.checkpoint, 'presentation.checkpoint');
    const cp = p.checkpoint;
    assertObject(cp.body, 'presentation.checkpoint.body');
    assertString(cp.signer, 'presentation.checkpoint.signer');
    assertString(cp.signature, 'presentation.checkpoint.signature');
    if (!/^[0-9a-f]{128}$/.test(cp.signature)) throw new RangeError('presentation.checkpoint.signature must be 64 bytes of hex');
    const body = cp.body;
    assertInt(body.sequence, 'checkpoint.body.sequence', 1, Number.MAX_SAFE_INTEGER);
    assertInt(body.time, 'checkpoint.body.time', 0, Number.MAX_SAFE_INTEGER);
    assertString(body.stateRoot, 'checkpoint.body.stateRoot');
    assertString(body.policyHash, 'checkpoint.body.policyHash');
    assertString(body.config, 'checkpoint.body.config');
    assertInt(p.context.expiry, 'presentation.context.expiry', 0, 2 ** 40 - 1);
    const signals = parsePublicSignals(p.publicSignals, THRESHOLD_PUBLIC_SIGNALS.length, 'presentation.publicSignals');

    // 1. The checkpoint is signed by a trusted aggregator.
    const signerKey = trusted.get(cp.signer);
    if (!signerKey) return fail('untrusted_aggregator');
    if (!verifyStrict(fromHex(cp.signature), signingBytes('checkpoint', body), signerKey)) return fail('bad_checkpoint_signature');
    // 2. A known configuration whose key is in the manifest.
    const vkey = keys[p.config];
    if (!vkey || body.config !== p.config) return fail('unknown_configuration');
    // 3. Each public signal is what the expectations imply.
    const [root, agent, minScore, minRecords, minOrgs, ph, ctx] = signals as [bigint, bigint, bigint, bigint, bigint, bigint, bigint];
    if (p.agent !== e.agent || agent !== identityField(publicKeyFromDid(e.agent))) return fail('agent_mismatch');
    if (root.toString() !== body.stateRoot) return fail('root_mismatch');
    if (minScore < BigInt(e.minScore) || minScore > 1000n) return fail('score_below_expected');
    if (minRecords < BigInt(e.minRecords ?? 0)) return fail('records_below_expected');
    if (minOrgs < BigInt(e.minOrgs ?? 0)) return fail('orgs_below_expected');
    if (!accepted.has(ph.toString()) || body.policyHash !== ph.toString()) return fail('policy_mismatch');
    const expiry = p.context.expiry;
    if (ctx !== contextHash({ nonce: e.context.nonce, audience: e.context.audience, expiry })) return fail('context_mismatch');
    const t = now();
    if (expiry * 1000 <= t) return fail('expired');
    if (body.time + e.maxAgeS * 1000 < t) return fail('stale_checkpoint');
    // 4. The proof.
    const policyKey = ph.toString() === v1 ? LEGACY_V1_THRESHOLD_KEYS[p.config]?.threshold : vkey;
    if (!policyKey) return fail('unknown_configuration');
    if (!(await verifyGroth16(policyKey, p.publicSignals as string[], p.proof as never))) return fail('invalid_proof');
    return {
      ok: true,
      reason: 'ok',
      tier: tierOf(minScore),
      provenMinScore: Number(minScore),
      checkpoint: { sequence: body.sequence, stateRoot: body.stateRoot, time: body.time, signer: cp.signer },
      until: Math.min(expiry * 1000, body.time + e.maxAgeS * 1000),
    };
  }

  return {
    async verifyPresentation(presentation, expectations) {
      assertObject(presentation, 'presentation');
      assertObject(expectations, 'expectations');
      assertString(expectations.agent, 'expectations.agent');
      assertInt(expectations.minScore, 'expectations.minScore', 0, 1000);
      if (expectations.minRecords !== undefined) assertInt(expectations.minRecords, 'expectations.minRecords', 0, 2 ** 48 - 1);
      if (expectations.minOrgs !== undefined) assertInt(expectations.minOrgs, 'expectations.minOrgs', 0, 2 ** 48 - 1);
      assertObject(expectations.context, 'expectations.context');
      assertString(expectations.context.nonce, 'expectations.context.nonce');
      assertString(expectations.context.audience, 'expectations.context.audience');
      assertInt(expectations.maxAgeS, 'expectations.maxAgeS', 0, 10 * 365 * 86_400);
      const key = canonicalJson({ p: presentation, e: expectations });
      const hit = decisions.get(key);
      if (hit && now() < hit.until) return { ...hit.result, cached: true };
      const { until, ...result } = await decide(presentation, expectations);
      if (until !== undefined) {
        if (decisions.size >= cacheSize) decisions.delete(decisions.keys().next().value!);
        decisions.set(key, { result, until });
      }
      return result;
    },
  };
}
