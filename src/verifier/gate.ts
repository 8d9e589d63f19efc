/**
 * Policy-gate adapters: the trust-provider shape that agent-governance engines plug in
 * (`getTrustScore(agent) -> 0..1`), and a tier gate over a presentation. Both speak of the
 * proven minimum score only: the exact score stays hidden. The Agent Governance Toolkit's own
 * shapes (AgentMesh's trust provider and tier names, the TypeScript SDK's policy backend) are
 * in src/interop/agt.ts.
 * @module
 */
import { TIERS, type Tier } from '../crypto/score-policy.ts';
import type { Expectations, Verifier } from './presentation.ts';

export interface TrustProviderOptions {
  verifier: Verifier;
  /** Where the engine keeps the presentation an agent showed (undefined: none). */
  presentationOf: (agent: string) => unknown | Promise<unknown>;
  /** The verifier's context and freshness requirements for the agent's presentation. */
  expectationsFor: (agent: string) => Omit<Expectations, 'agent' | 'minScore'> & { minScore?: number };
}

/**
 * A trust provider: the agent's proven minimum score on 0..1, or 0 when it has shown no
 * valid presentation (no evidence is not a middling score).
 * @example const getTrustScore = createTrustProvider({ verifier, presentationOf, expectationsFor });
 */
export function createTrustProvider(opts: TrustProviderOptions): (agent: string) => Promise<number> {
  return async (agent) => {
    const presentation = await opts.presentationOf(agent);
    if (presentation === undefined || presentation === null) return 0;
    const e = opts.expectationsFor(agent);
    try {
      const r = await opts.verifier.verifyPresentation(presentation, { ...e, agent, minScore: e.minScore ?? 0 });
      return r.ok ? (r.provenMinScore ?? 0) / 1000 : 0;
    } catch {
      return 0;
    }
  };
}

/**
 * Whether a presentation proves at least `tier` for the expected agent and context.
 * @returns { allowed, reason } where reason is the verifier's reason code.
 * @throws RangeError for an unknown tier; TypeError/RangeError for malformed expectations.
 */
export async function checkTrustGate(verifier: Verifier, presentation: unknown, tier: Tier, expectations: Omit<Expectations, 'minScore'>): Promise<{ allowed: boolean; reason: string }> {
  const min = TIERS.find((t) => t.tier === tier);
  if (!min) throw new RangeError(`unknown tier ${String(tier)}`);
  const r = await verifier.verifyPresentation(presentation, { ...expectations, minScore: Number(min.min) });
  return { allowed: r.ok, reason: r.reason };
}
