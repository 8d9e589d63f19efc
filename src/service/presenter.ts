/**
 * The presenter: threshold presentations for agents, proven from the committed state (what
 * the latest signed checkpoint proves) by the prover pool, each checked as a verifier would
 * before anyone sees it.
 *
 * An agent proves control of its did:key by signing a fresh challenge into its request.
 * Challenges are stateless (an HMAC under a key of this process); only challenges already
 * answered are remembered, until they expire, and only after the request verified.
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { canonicalJson, signingBytes } from '../crypto/canonical.ts';
import { verifyStrict } from '../crypto/ed25519.ts';
import { identityField, publicKeyFromDid } from '../crypto/identity.ts';
import { meetsEvidenceThreshold, type ScorePolicyV2 } from '../crypto/score-policy.ts';
import { ZkTrustError } from '../errors.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { ChallengeBody, ThresholdRequestBody, parseOrThrow } from '../protocol/schemas.ts';
import type { ProofResponse } from '../protocol/wire.ts';
import { THRESHOLD_PUBLIC_SIGNALS, buildThresholdInput } from '../state/threshold-input.ts';
import { verifyGroth16 } from '../verifier/groth16.ts';
import type { RateLimits } from './limits.ts';
import type { ProverPool } from './prover-pool.ts';
import type { Sequencer } from './sequencer.ts';
import { sameStatement, type ServiceParts } from './service-parts.ts';

export interface PresenterConfig {
  circuits: string;
  challengeTtlMs: number;
  /** Longest validity a verifier's context may ask for. */
  maxContextLifetimeS: number;
  /** Prove with the public-seed development keys (ZKTRUST_INSECURE_DEV_KEYS=1): tests and demos only. */
  insecureDevKeys: boolean;
}

export interface PresenterDeps {
  config: PresenterConfig;
  keys: KeyRing;
  provers: ProverPool;
  /** The proven state and the latest checkpoint. */
  sequencer: Pick<Sequencer, 'committed' | 'latestCheckpoint'>;
  policy: Readonly<ScorePolicyV2>;
  policyHash: bigint;
  limits?: RateLimits;
}

/** Answered challenges remembered at most; beyond, presentations wait (503) rather than forget one. */
const MAX_USED_CHALLENGES = 100_000;

function bigEndian64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

export class Presenter {
  private readonly parts: ServiceParts;
  private readonly deps: PresenterDeps;
  // Stateless challenges: an HMAC under this per-process key (see challenge()).
  private readonly challengeKey = randomBytes(32);
  // Challenges already answered, until they expire: only a verified agent's request adds one.
  private readonly usedChallenges = new LRUCache<string, true>({ max: MAX_USED_CHALLENGES, ttlAutopurge: false });
  // Presentations of the latest checkpoint, by statement and context (cleared at each checkpoint).
  private readonly cache = new LRUCache<string, ProofResponse>({ max: 10_000 });

  constructor(parts: ServiceParts, deps: PresenterDeps) {
    this.parts = parts;
    this.deps = deps;
  }

  /** A new checkpoint: presentations of the previous one are no longer served. */
  checkpointChanged(): void {
    this.cache.clear();
  }

  /**
   * A fresh challenge for an agent to sign into its next request (proof of control). Stateless:
   * expiry and 16 random bytes, and an HMAC of them and the agent under a key of this process,
   * so that asking for challenges stores nothing (nobody can exhaust an agent's challenges).
   */
  challenge(input: unknown): { agent: string; challenge: string; expires: number } {
    const { agent } = parseOrThrow(ChallengeBody, input, 'body');
    try {
      publicKeyFromDid(agent);
    } catch {
      throw new ZkTrustError('out_of_range', 'agent is not an Ed25519 did:key');
    }
    const expires = Date.now() + this.deps.config.challengeTtlMs;
    const payload = Buffer.concat([bigEndian64(expires), randomBytes(16)]);
    return { agent, challenge: Buffer.concat([payload, this.challengeMac(agent, payload)]).toString('hex'), expires };
  }

  private challengeMac(agent: string, payload: Uint8Array): Buffer {
    return createHmac('sha256', this.challengeKey).update('zktrust/v1/challenge\n').update(agent).update(payload).digest().subarray(0, 16);
  }

  /** Whether `challenge` was issued to `agent` by this process, has not expired and was not answered. */
  private challengeValid(agent: string, challenge: string): boolean {
    const bytes = Buffer.from(challenge, 'hex');
    if (bytes.length !== 40) return false;
    const mac = this.challengeMac(agent, bytes.subarray(0, 24));
    if (!timingSafeEqual(mac, bytes.subarray(24))) return false;
    return Number(bytes.readBigUInt64BE(0)) >= Date.now() && !this.usedChallenges.has(challenge);
  }

  /** Remembers an answered challenge until it expires; never by forgetting an unexpired one. */
  private useChallenge(challenge: string): void {
    if (this.usedChallenges.size >= MAX_USED_CHALLENGES) this.usedChallenges.purgeStale();
    if (this.usedChallenges.size >= MAX_USED_CHALLENGES) throw new ZkTrustError('unavailable', 'too many presentations in flight; retry later', { retryAfterS: Math.ceil(this.deps.config.challengeTtlMs / 1000) });
    this.usedChallenges.set(challenge, true, { ttl: this.deps.config.challengeTtlMs });
  }

  /**
   * A threshold presentation for the agent that signed the request (docs/api.md), bound to the
   * verifier's context by its hash alone: the aggregator never sees the verifier's nonce or
   * audience. The agent adds them to what it forwards.
   * @throws ZkTrustError: invalid_signature / forbidden for a request not signed by the
   *   agent or with an unknown, expired or reused challenge; rate_limited beyond the agent's
   *   rate; not_found before the agent's first proven record; predicate_false when the
   *   statement does not hold; unavailable when the provers are busy or away.
   */
  async presentThreshold(input: unknown): Promise<ProofResponse> {
    const { config, keys, provers, sequencer, policy, policyHash, limits } = this.deps;
    const { metrics, telemetry, logger } = this.parts;
    const body = parseOrThrow(ThresholdRequestBody, input, 'body');
    const { agent, minScore, challenge } = body;
    const minRecords = body.minRecords ?? 0;
    const minOrgs = body.minOrgs ?? 0;
    const context = { hash: body.context.hash, expiry: body.context.expiry };
    let pk: Uint8Array;
    try {
      pk = publicKeyFromDid(agent);
    } catch {
      throw new ZkTrustError('out_of_range', 'agent is not an Ed25519 did:key');
    }
    const request = { agent, minScore, minRecords, minOrgs, context, challenge };
    if (!verifyStrict(Uint8Array.from(Buffer.from(body.signature, 'hex')), signingBytes('threshold-request', request), pk)) throw new ZkTrustError('invalid_signature', 'the request is not signed by the agent');
    if (!this.challengeValid(agent, challenge)) throw new ZkTrustError('forbidden', 'unknown, expired, used or foreign challenge');
    this.useChallenge(challenge);
    await limits?.take('agent', agent);
    const nowS = Math.floor(Date.now() / 1000);
    if (context.expiry <= nowS || context.expiry > nowS + config.maxContextLifetimeS) throw new ZkTrustError('out_of_range', 'context.expiry must be in the future and within the allowed lifetime');
    const checkpoint = sequencer.latestCheckpoint();
    if (!checkpoint) throw new ZkTrustError('not_found', 'no proven state yet');
    const state = sequencer.committed;
    const agentField = identityField(pk);
    const found = state.lookup(agentField);
    if (!found) throw new ZkTrustError('not_found', 'the agent has no proven record yet');
    const { summary } = found.leaf;
    if (!meetsEvidenceThreshold(summary, BigInt(minScore), policy) || summary.records < BigInt(minRecords) || summary.orgCount < BigInt(minOrgs)) {
      throw new ZkTrustError('predicate_false', 'the requested statement does not hold for this agent');
    }
    const key = canonicalJson({ agent, minScore, minRecords, minOrgs, ctx: context.hash, expiry: context.expiry, seq: checkpoint.body.sequence });
    const hit = this.cache.get(key);
    if (hit) {
      metrics.presentationCacheHits++;
      telemetry?.presentations.inc({ source: 'cache' });
      return hit;
    }
    const keySet = keys.byHash(checkpoint.body.keySetHash);
    if (!keySet) throw new ZkTrustError('internal', 'the latest checkpoint names an unknown key set');
    if (keySet.descriptor.mode === 'dev' && !config.insecureDevKeys) {
      // Never serve forgeable proofs: wait for the first checkpoint under this service's own keys.
      throw new ZkTrustError('unavailable', 'the latest checkpoint is under development keys; presentations resume after the next batch');
    }
    const { input: circuitInput, public: expected } = buildThresholdInput(
      state,
      { agent: agentField, minScore: BigInt(minScore), minRecords: BigInt(minRecords), minOrgs: BigInt(minOrgs), contextHash: BigInt(context.hash) },
      policyHash,
    );
    const tp = performance.now();
    const { proof, publicSignals } = await provers.of(keySet).threshold.prove('threshold', circuitInput);
    telemetry?.proveDuration.observe({ circuit: 'threshold' }, (performance.now() - tp) / 1000);
    // A prover's answer is checked as a verifier would, before anyone sees it: the statement
    // asked, under the key set the checkpoint names.
    if (!sameStatement(THRESHOLD_PUBLIC_SIGNALS, expected, publicSignals) || !(await verifyGroth16(keySet.verificationKeys.threshold!, publicSignals, proof as never).catch(() => false))) {
      logger({ level: 'error', msg: 'a prover returned a presentation proof that does not verify', prover: 'threshold' });
      throw new ZkTrustError('unavailable', 'the presentation could not be proven; retry later', { retryAfterS: 2 });
    }
    const presentation: ProofResponse = {
      version: 2, circuit: 'threshold', config: config.circuits, agent, proof, publicSignals, context, checkpoint,
      keySet: keySet.descriptor, verificationKey: keySet.verificationKeys.threshold!,
    };
    this.cache.set(key, presentation);
    metrics.presentations++;
    telemetry?.presentations.inc({ source: 'proven' });
    return presentation;
  }
}
