/**
 * Adapters for Microsoft's Agent Governance Toolkit (AGT): zktrust as an AGT trust provider
 * and as an external policy backend. Browser-safe; docs/integrations.md has a policy.
 *
 * What they match (AGT's sources, read 2026):
 * - The trust-provider contract of AgentMesh (agent-governance-python/agentmesh-integrations/
 *   README.md, "Interface Contract"): `get_trust_score(agent_id) -> float` in [0, 1] and
 *   `verify_identity(agent_id, credentials) -> bool`, both async. Here in TypeScript's
 *   spelling: `getTrustScore`, `verifyIdentity`.
 * - AgentMesh's tiers on the 0..1000 scale (agentmesh/trust/levels.py and the TypeScript
 *   `TrustTier`): verified_partner >= 900, trusted >= 700, standard >= 500,
 *   probationary >= 300, untrusted. They are zktrust's TIERS (src/crypto/score-policy.ts),
 *   the space of "verified partner" written as an underscore.
 * - The TypeScript SDK's `ExternalPolicyBackend` (agent-governance-typescript/src/types.ts):
 *   `{ name, evaluatePolicy(agentDid, context) }` answering `'allow' | 'deny' | 'review'` or
 *   `{ backend, decision, reason }`; `PolicyEngine.registerBackend` takes it, and a deny from
 *   any backend denies.
 *
 * A zktrust score is a proven lower bound: the threshold the agent chose to prove (a tier
 * boundary by default), never the hidden score. `trust_score` is that bound on 0..1000 and
 * 0 without a valid presentation (no evidence is not a middling score; AGT's own default for
 * an unknown agent is 500, which a zktrust gate must not inherit). Write policies against
 * tier boundaries.
 * @module
 */
import { publicKeyFromDid } from '../crypto/identity.ts';
import type { KeyMode } from '../crypto/key-set.ts';
import { TIERS, type Tier } from '../crypto/score-policy.ts';
import type { Expectations, ReasonCode, Verifier } from '../verifier/presentation.ts';

/** AgentMesh's tier names. */
export type AgtTrustTier = 'verified_partner' | 'trusted' | 'standard' | 'probationary' | 'untrusted';

/**
 * A zktrust tier as AgentMesh names it.
 * @throws RangeError for a name that is no zktrust tier.
 * @example agtTier('verified partner') // 'verified_partner'
 */
export function agtTier(tier: Tier): AgtTrustTier {
  const t = TIERS.find((x) => x.tier === tier);
  if (!t) throw new RangeError(`unknown tier ${String(tier)}`);
  return t.tier.replace(' ', '_') as AgtTrustTier;
}

/** AgentMesh's tiers with their least scores (0..1000), highest first: zktrust's TIERS. */
export const AGT_TIERS: ReadonlyArray<{ tier: AgtTrustTier; min: number }> = Object.freeze(TIERS.map((t) => Object.freeze({ tier: agtTier(t.tier), min: Number(t.min) })));

/**
 * One agent's trust as an AGT policy reads it: spread it into the context of
 * `PolicyEngine.evaluatePolicy(agentDid, context)` and write conditions such as
 * `trust_score >= 700` or `trust_tier == 'trusted'` (docs/integrations.md).
 */
export interface AgtTrustEvaluation {
  agent_did: string;
  /** The proven minimum score on 0..1000; 0 without a valid presentation. */
  trust_score: number;
  /** The same on 0..1: what `getTrustScore` answers. */
  score: number;
  trust_tier: AgtTrustTier;
  /** Whether a presentation verified for this agent under the verifier's expectations. */
  zktrust_verified: boolean;
  /** The verifier's reason code, `no_presentation`, or `not_a_did_key` for an agent id that is no did:key. */
  zktrust_reason: ReasonCode | 'no_presentation' | 'not_a_did_key';
  /** The key mode the proof was made under, once known (docs/keys.md). */
  zktrust_key_mode?: KeyMode;
}

export interface AgtTrustProviderOptions {
  verifier: Verifier;
  /** The presentation (either form) the agent showed for this request; undefined or null: none. */
  presentationOf: (agent: string, context?: Record<string, unknown>) => unknown | Promise<unknown>;
  /** The verifier's own nonce, audience and freshness for this agent's presentation; minScore defaults to 0. */
  expectationsFor: (agent: string) => Omit<Expectations, 'agent' | 'minScore'> & { minScore?: number };
}

/** AGT's trust-provider contract, in TypeScript's spelling, plus the evaluation policies read. */
export interface AgtTrustProvider {
  readonly name: 'zktrust';
  /** The agent's proven minimum score on 0..1 (0 without a valid presentation). */
  getTrustScore(agentId: string): Promise<number>;
  /**
   * Whether `credentials` (a presentation in either form, or `{ presentation }`) verifies for
   * this agent: the holder of the agent's did:key asked a trusted aggregator for a proof bound
   * to this verifier's nonce and audience. Any score counts (minScore 0 unless the
   * expectations say otherwise).
   */
  verifyIdentity(agentId: string, credentials: unknown): Promise<boolean>;
  evaluateTrust(agentId: string, context?: Record<string, unknown>): Promise<AgtTrustEvaluation>;
}

/**
 * zktrust as an AGT trust provider. A stranger's presentation never makes it throw; an
 * agent id that is no did:key scores 0 (`not_a_did_key`).
 * @throws TypeError / RangeError from `expectationsFor`'s malformed expectations (the caller's own).
 * @example
 *   const provider = createAgtTrustProvider({ verifier, presentationOf: (a) => shown.get(a),
 *     expectationsFor: () => ({ context: { nonce, audience }, maxAgeS: 3600 }) });
 *   await provider.getTrustScore('did:key:z6Mk...'); // 0.7
 */
export function createAgtTrustProvider(opts: AgtTrustProviderOptions): AgtTrustProvider {
  if (typeof opts !== 'object' || opts === null) throw new TypeError('options must be an object');
  for (const k of ['presentationOf', 'expectationsFor'] as const) if (typeof opts[k] !== 'function') throw new TypeError(`options.${k} must be a function`);
  if (typeof opts.verifier?.verifyPresentation !== 'function') throw new TypeError('options.verifier must be a Verifier (createVerifier)');

  const evaluation = (agent: string, reason: AgtTrustEvaluation['zktrust_reason'], proven = 0, keyMode?: KeyMode): AgtTrustEvaluation => ({
    agent_did: agent,
    trust_score: proven,
    score: proven / 1000,
    trust_tier: AGT_TIERS.find((t) => proven >= t.min)!.tier,
    zktrust_verified: reason === 'ok',
    zktrust_reason: reason,
    ...(keyMode ? { zktrust_key_mode: keyMode } : {}),
  });

  async function verify(agent: string, presentation: unknown): Promise<AgtTrustEvaluation> {
    try {
      publicKeyFromDid(agent);
    } catch {
      return evaluation(typeof agent === 'string' ? agent : '', 'not_a_did_key');
    }
    if (presentation === undefined || presentation === null) return evaluation(agent, 'no_presentation');
    const e = opts.expectationsFor(agent);
    const r = await opts.verifier.verifyPresentation(presentation, { ...e, agent, minScore: e.minScore ?? 0 });
    return evaluation(agent, r.reason, r.ok ? (r.provenMinScore ?? 0) : 0, r.keyMode);
  }

  return {
    name: 'zktrust',
    evaluateTrust: async (agent, context) => verify(agent, await opts.presentationOf(agent, context)),
    getTrustScore: async (agent) => (await verify(agent, await opts.presentationOf(agent))).score,
    verifyIdentity: async (agent, credentials) => {
      const c = credentials as { presentation?: unknown } | null;
      const presentation = typeof c === 'object' && c !== null && Object.hasOwn(c, 'presentation') ? c.presentation : credentials;
      return (await verify(agent, presentation)).zktrust_verified;
    },
  };
}

/** The TypeScript SDK's `BackendEvaluationOutcome`. */
export interface AgtBackendOutcome {
  backend: string;
  decision: 'allow' | 'deny' | 'review';
  reason?: string;
}

/** The TypeScript SDK's `ExternalPolicyBackend`, as zktrust implements it. */
export interface AgtPolicyBackend {
  name: string;
  evaluatePolicy(agentDid: string, context: Record<string, unknown>): Promise<AgtBackendOutcome>;
}

/**
 * An AGT policy backend that allows an agent only when its presentation proves at least
 * `minScore` (or the least score of `tier`); register it with
 * `policyEngine.registerBackend(...)`. The presentation is `presentationOf(agentDid, context)`.
 * @throws RangeError for a minScore outside [0, 1000] or an unknown tier; TypeError for other
 *   malformed options.
 * @example engine.registerBackend(createAgtPolicyBackend({ ...providerOptions, tier: 'trusted' }));
 */
export function createAgtPolicyBackend(opts: AgtTrustProviderOptions & ({ minScore: number } | { tier: Tier | AgtTrustTier })): AgtPolicyBackend {
  const provider = createAgtTrustProvider(opts);
  let min: number;
  if ('tier' in opts) {
    const t = AGT_TIERS.find((x) => x.tier === opts.tier || x.tier === String(opts.tier).replace(' ', '_'));
    if (!t) throw new RangeError(`options.tier: unknown tier ${String(opts.tier)}`);
    min = t.min;
  } else {
    min = opts.minScore;
    if (typeof min !== 'number' || !Number.isInteger(min)) throw new TypeError('options.minScore must be an integer');
    if (min < 0 || min > 1000) throw new RangeError('options.minScore must be in [0, 1000]');
  }
  return {
    name: 'zktrust',
    async evaluatePolicy(agentDid, context) {
      const e = await provider.evaluateTrust(agentDid, context);
      if (!e.zktrust_verified) return { backend: 'zktrust', decision: 'deny', reason: `zktrust: ${e.zktrust_reason}` };
      if (e.trust_score < min) return { backend: 'zktrust', decision: 'deny', reason: `zktrust: proven score ${e.trust_score} is below ${min}` };
      return { backend: 'zktrust', decision: 'allow', reason: `zktrust: proven score >= ${e.trust_score} (${e.trust_tier})` };
    },
  };
}
