import type { Redis } from 'ioredis';
import { type RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Policy } from '../common/policy/schema.ts';
import { insuredLimiter } from './insured-limiter.ts';
import type { RateLimitView } from './retry-hints.ts';

export interface AccountLimitOutcome {
  ok: boolean;
  waitMs: number;
  view: RateLimitView;
}

interface TierLimiter {
  limiter: RateLimiterAbstract;
  points: number;
}

/**
 * A tier's `rateLimit` and `burst` as a fixed window: `burst` points per window of burst / rate
 * seconds, which allows the burst at once and the rate on average.
 */
export function windowFor(ratePerSec: number, burst: number): { points: number; duration: number } {
  if (ratePerSec <= 0) return { points: 1, duration: 3600 };
  const duration = Math.max(1, Math.ceil(burst / ratePerSec));
  return { points: Math.max(1, Math.round(ratePerSec * duration)), duration };
}

/**
 * Per-account request limits by tier (rate-limiter-flexible). In distributed mode the counts live
 * in Redis, with an in-memory insurance limiter that takes over while Redis fails; in embedded
 * mode in memory. A policy change re-sizes the existing limiters in place, so the next request
 * is judged by the new limit against the requests already counted, and none is dropped.
 */
export class AccountLimits {
  private byTier = new Map<string, TierLimiter & { insurance: RateLimiterMemory | null }>();

  constructor(private readonly redis: Redis | null) {}

  apply(policy: Policy): void {
    const next = new Map<string, TierLimiter & { insurance: RateLimiterMemory | null }>();
    for (const [tier, t] of Object.entries(policy.tiers)) {
      const { points, duration } = windowFor(t.rateLimit, t.burst);
      const existing = this.byTier.get(tier);
      if (existing) {
        for (const l of [existing.limiter, existing.insurance]) {
          if (!l) continue;
          l.points = points;
          l.duration = duration;
        }
        next.set(tier, { ...existing, points });
        continue;
      }
      const keyPrefix = `spillway:rl:${tier}`;
      const { limiter, insurance } = insuredLimiter(this.redis, { points, duration, keyPrefix });
      next.set(tier, { limiter, points, insurance });
    }
    this.byTier = next;
  }

  /** The tier's request allowance per window, for x-ratelimit-limit-requests on capacity refusals. */
  points(tier: string): number {
    return this.byTier.get(tier)?.points ?? 0;
  }

  async consume(tier: string, account: string): Promise<AccountLimitOutcome> {
    const t = this.byTier.get(tier);
    if (!t) return { ok: false, waitMs: 60_000, view: { limit: 0, remaining: 0, resetMs: 60_000 } };
    try {
      const r = await t.limiter.consume(account, 1);
      return {
        ok: true,
        waitMs: 0,
        view: { limit: t.points, remaining: r.remainingPoints, resetMs: r.msBeforeNext },
      };
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      return {
        ok: false,
        waitMs: err.msBeforeNext,
        view: { limit: t.points, remaining: 0, resetMs: err.msBeforeNext },
      };
    }
  }
}
