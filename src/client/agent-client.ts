/**
 * AgentClient: what an agent runs to obtain a presentation for a verifier: it answers the
 * aggregator's challenge with a request signed by its own key (proof of control), for the
 * verifier's context.
 * @module
 */
import { publicKeyOf } from '../crypto/ed25519.ts';
import { didFromPublicKey } from '../crypto/identity.ts';
import { ClientError } from './org-client.ts';
import { buildThresholdRequest, type ThresholdAsk } from './submission.ts';

export class AgentClient {
  readonly did: string;
  constructor(
    private readonly secretKey: Uint8Array,
    readonly url: string,
  ) {
    this.did = didFromPublicKey(publicKeyOf(secretKey));
  }

  /**
   * A presentation proving `ask` for the verifier's context.
   * @throws ClientError with code predicate_false when the statement does not hold, or the
   *   server's other problem codes.
   */
  async present(ask: ThresholdAsk): Promise<unknown> {
    const post = async (path: string, body: unknown) => {
      const res = await fetch(`${this.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const json = await res.json();
      if (!res.ok) throw new ClientError(res.status, json?.code ?? 'http_error', json?.detail ?? `HTTP ${res.status}`);
      return json;
    };
    const { challenge } = await post('/v1/agents/challenge', { agent: this.did });
    return post('/v1/proofs/threshold', buildThresholdRequest(this.secretKey, challenge, ask));
  }
}
