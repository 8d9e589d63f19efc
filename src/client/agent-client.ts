/**
 * AgentClient: what an agent runs to obtain a presentation for a verifier: it answers the
 * aggregator's challenge with a request signed by its own key (proof of control), for the
 * verifier's context. The aggregator sees only that context's hash: the client adds the
 * verifier's nonce and audience to the presentation it returns.
 *
 * Disclosure policy. Each presentation tells its verifier that the score is at least the
 * threshold asked, so a verifier that asks again and again with rising thresholds learns the
 * score. By default the client proves only the tier boundaries (0, 300, 500, 700, 900): a
 * verifier learns a tier, never more. `policy: 'any'` proves any threshold it is asked for.
 * @module
 */
import type { Presentation, ProofResponse } from '../protocol/wire.ts';
import { publicKeyOf } from '../crypto/ed25519.ts';
import { didFromPublicKey } from '../crypto/identity.ts';
import { TIERS } from '../crypto/score-policy.ts';
import { ClientError } from './org-client.ts';
import { buildThresholdRequest, type ThresholdAsk } from './submission.ts';

/** Which thresholds the agent agrees to prove: tier boundaries only (default), or any. */
export type DisclosurePolicy = 'tiers' | 'any';

export const TIER_THRESHOLDS: readonly number[] = TIERS.map((t) => Number(t.min));

export class AgentClient {
  readonly did: string;
  constructor(
    private readonly secretKey: Uint8Array,
    readonly url: string,
    private readonly opts: { policy?: DisclosurePolicy } = {},
  ) {
    this.did = didFromPublicKey(publicKeyOf(secretKey));
  }

  /**
   * A presentation proving `ask` for the verifier's context.
   * @throws RangeError for a threshold other than a tier boundary under the 'tiers' policy;
   *   ClientError with code predicate_false when the statement does not hold, or the
   *   server's other problem codes.
   */
  async present(ask: ThresholdAsk): Promise<Presentation> {
    if ((this.opts.policy ?? 'tiers') === 'tiers' && !TIER_THRESHOLDS.includes(ask.minScore)) {
      throw new RangeError(`minScore ${ask.minScore} is not a tier boundary (${TIER_THRESHOLDS.join(', ')}); proving it would tell the verifier more than a tier (use policy 'any' to allow it)`);
    }
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${this.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = await res.json();
      if (!res.ok) throw ClientError.of(res, json);
      return json;
    };
    const { challenge } = await post('/v1/agents/challenge', { agent: this.did });
    // The aggregator's answer is typed, not trusted: the verifier checks every field of it.
    const answer = (await post('/v1/proofs/threshold', buildThresholdRequest(this.secretKey, challenge, ask))) as ProofResponse;
    // The verifier's nonce and audience in place of their hash: the verifier recomputes it.
    return { ...answer, context: { nonce: ask.context.nonce, audience: ask.context.audience, expiry: ask.context.expiry } };
  }
}
