import type { Redis } from 'ioredis';
import { insuredLimiter } from './insured-limiter.ts';
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';

/**
 * Sign-ups per client address (policy.signup.perClient): a slow rate such as 5/h becomes that
 * many points per hour, a fast one points per second.
 */
export class SignupLimits {
  private limiter: RateLimiterAbstract | null = null;
  private ratePerSec = -1;

  constructor(private readonly redis: Redis | null) {}

  private limiterFor(ratePerSec: number): RateLimiterAbstract {
    if (this.limiter && ratePerSec === this.ratePerSec) return this.limiter;
    const duration = ratePerSec >= 1 ? 1 : 3600;
    const points = Math.max(1, Math.round(ratePerSec * duration));
    const keyPrefix = `spillway:signup:${points}:${duration}`;
    this.limiter = insuredLimiter(this.redis, { points, duration, keyPrefix }).limiter;
    this.ratePerSec = ratePerSec;
    return this.limiter;
  }

  async consume(client: string, ratePerSec: number): Promise<{ ok: boolean; waitMs: number }> {
    try {
      await this.limiterFor(ratePerSec).consume(client, 1);
      return { ok: true, waitMs: 0 };
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      return { ok: false, waitMs: err.msBeforeNext };
    }
  }
}
