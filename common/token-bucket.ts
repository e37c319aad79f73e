/**
 * A token bucket as a pure step: state in, decision and new state out. The memory coordination
 * store uses it directly; the Redis Lua script implements the same arithmetic.
 */
export interface BucketState {
  tokens: number;
  updatedAt: number;
}

export function takeFromBucket(
  state: BucketState | null,
  cost: number,
  ratePerSec: number,
  burst: number,
  now: number,
): { ok: boolean; waitMs: number; state: BucketState } {
  const prev = state ?? { tokens: burst, updatedAt: now };
  const elapsed = Math.max(0, now - prev.updatedAt);
  const tokens = Math.min(burst, prev.tokens + (elapsed * ratePerSec) / 1000);
  if (tokens >= cost) return { ok: true, waitMs: 0, state: { tokens: tokens - cost, updatedAt: now } };
  const waitMs = ratePerSec > 0 ? Math.ceil(((cost - tokens) * 1000) / ratePerSec) : Number.POSITIVE_INFINITY;
  return { ok: false, waitMs, state: { tokens, updatedAt: now } };
}
