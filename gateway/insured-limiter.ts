import type { Redis } from 'ioredis';
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';

/**
 * A rate limiter shared by all gateways through Redis when there is one, with an in-process
 * insurance limiter that takes over while Redis fails (fail safe: limits still apply, per
 * gateway). Without Redis (embedded mode) the in-process limiter is the limiter.
 */
export function insuredLimiter(
  redis: Redis | null,
  opts: { points: number; duration: number; keyPrefix: string },
): { limiter: RateLimiterAbstract; insurance: RateLimiterMemory | null } {
  const memory = new RateLimiterMemory(opts);
  if (!redis) return { limiter: memory, insurance: null };
  return {
    limiter: new RateLimiterRedis({ storeClient: redis, ...opts, insuranceLimiter: memory }),
    insurance: memory,
  };
}
