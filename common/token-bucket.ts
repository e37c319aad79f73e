/**
 * A token bucket as a pure step: state in, decision and new state out. The memory coordination
 * store uses it directly; the Redis Lua script implements the same arithmetic.
 */
export interface BucketState {
  tokens: number;
  updatedAt: number;
}

/**
 * Takes `cost` tokens when the bucket holds `need` (a retry asks for headroom above its cost, so
 * first attempts are served before it), held as requiredTokens holds it. The wait is until the
 * bucket holds that.
 */
/**
 * What a bucket must hold to give `cost`: `need`, held to [cost, burst] (a bucket that can never
 * hold more than its burst would otherwise refuse retries for good). The Lua script does the same.
 */
export function requiredTokens(cost: number, need: number, burst: number): number {
  return Math.max(cost, Math.min(need, burst));
}

/** Tokens below which a shortfall is rounding, not a shortfall (the Lua script uses the same). */
export const DUST = 1e-9;

export function takeFromBucket(
  state: BucketState | null,
  cost: number,
  ratePerSec: number,
  burst: number,
  now: number,
  need = cost,
): { ok: boolean; waitMs: number; state: BucketState } {
  const prev = state ?? { tokens: burst, updatedAt: now };
  const elapsed = Math.max(0, now - prev.updatedAt);
  const tokens = Math.min(burst, prev.tokens + (elapsed * ratePerSec) / 1000);
  const required = requiredTokens(cost, need, burst);
  // Refills add up in floating point (1.2 + 0.2 + 0.2 … lands just under 2): dust never refuses.
  if (tokens >= required - DUST)
    return { ok: true, waitMs: 0, state: { tokens: tokens - cost, updatedAt: now } };
  const waitMs =
    ratePerSec > 0 ? Math.ceil(((required - tokens) * 1000) / ratePerSec) : Number.POSITIVE_INFINITY;
  return { ok: false, waitMs, state: { tokens, updatedAt: now } };
}
