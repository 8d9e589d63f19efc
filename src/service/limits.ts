/**
 * Rate limits, with rate-limiter-flexible's in-memory limiters:
 *
 *   address   every request but health, readiness and metrics, per client address, before
 *             anything else is looked at (IPv6 addresses count per /64)
 *   download  proving-key and ceremony-key downloads (hundreds of megabytes), per address
 *   org       per organisation, only once its signature has verified (submissions, ceremony
 *             uploads): an unsigned request naming an organisation can never use its budget
 *   agent     presentations per agent, once the agent's signature has verified
 *
 * Memory: a limiter keeps one small record per key only for its window (a few seconds), so
 * it holds at most the keys seen in one window: addresses that completed a TCP handshake
 * (or, behind a trusted proxy, the forwarded addresses of that window), registered
 * organisations, agents whose signature verified. No key is ever derived from an
 * unauthenticated body field.
 *
 * A refusal is ZkTrustError('rate_limited') with the seconds until the next point, which the
 * API turns into Retry-After and RateLimit-* headers.
 * @module
 */
import { isIPv6 } from 'node:net';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { ZkTrustError } from '../errors.ts';

export type LimitScope = 'address' | 'download' | 'org' | 'agent';

export interface LimitsConfig {
  /** Signed requests per second per organisation (sustained). */
  ratePerSecond: number;
  /** Requests an organisation may make at once above the sustained rate. */
  burst: number;
  /** Requests per second per client address (sustained), before authentication, and the address's burst. */
  addressRatePerSecond: number;
  addressBurst: number;
  /** Key downloads (hundreds of megabytes each) per address per minute. */
  downloadsPerMinute: number;
  /** Presentations per agent per minute. */
  presentationsPerMinute: number;
}

/** The state of one limiter for a key after a request: for the RateLimit-* headers. */
export interface LimitState {
  limit: number;
  remaining: number;
  resetS: number;
}

/** A client address as a limiter key: IPv4 as it is, IPv6 by its /64 prefix. */
export function addressKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (v4) return v4[1]!;
  if (!isIPv6(ip)) return ip;
  // Expand "::" and keep the first four groups.
  const [head, tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export class RateLimits {
  private readonly limiters: Record<LimitScope, RateLimiterMemory>;
  private readonly points: Record<LimitScope, number>;

  constructor(cfg: LimitsConfig, private readonly onLimited?: (scope: LimitScope) => void) {
    // A fixed window of `burst` points lasting burst / rate seconds: `rate` per second sustained.
    const windowS = (rate: number, burst: number) => Math.max(1, Math.ceil(burst / Math.max(rate, 1e-9)));
    const points = (burst: number) => Math.max(1, Math.floor(burst));
    this.points = { address: points(cfg.addressBurst), org: points(cfg.burst), download: Math.max(1, cfg.downloadsPerMinute), agent: Math.max(1, cfg.presentationsPerMinute) };
    this.limiters = {
      address: new RateLimiterMemory({ keyPrefix: 'address', points: this.points.address, duration: windowS(cfg.addressRatePerSecond, cfg.addressBurst) }),
      org: new RateLimiterMemory({ keyPrefix: 'org', points: this.points.org, duration: windowS(cfg.ratePerSecond, cfg.burst) }),
      download: new RateLimiterMemory({ keyPrefix: 'download', points: this.points.download, duration: 60 }),
      agent: new RateLimiterMemory({ keyPrefix: 'agent', points: this.points.agent, duration: 60 }),
    };
  }

  /**
   * Takes one point of `scope` for `key`.
   * @returns the limiter's state after it (for RateLimit-* headers).
   * @throws ZkTrustError('rate_limited') with retryAfterS when the key has no point left.
   */
  async take(scope: LimitScope, key: string): Promise<LimitState> {
    const limit = this.points[scope];
    try {
      const r = await this.limiters[scope].consume(key);
      return { limit, remaining: r.remainingPoints, resetS: Math.ceil(r.msBeforeNext / 1000) };
    } catch (e) {
      if (!(e instanceof RateLimiterRes)) throw e;
      this.onLimited?.(scope);
      const retryAfterS = Math.max(1, Math.ceil(e.msBeforeNext / 1000));
      throw new ZkTrustError('rate_limited', `too many requests (${scope}); retry in ${retryAfterS} s`, { retryAfterS, rateLimit: { limit, remaining: 0, resetS: retryAfterS } });
    }
  }
}
