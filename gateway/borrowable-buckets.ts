import type { TierAdmission } from '../common/contracts/index.ts';
import type { Policy } from '../common/policy/schema.ts';
import type { BucketSpec } from '../common/store/coordination-store.ts';

/**
 * The global buckets a request may borrow from when its own lane × tier bucket is short: those of
 * the lower-priority tiers of its lane, lowest first. Free before paid, at the token level too:
 * without it a plus request was refused in a second where free requests were still admitted from
 * free's own bucket. Tiers without a cap (rate null) lend nothing: they have no bucket.
 */
export function borrowableBuckets(
  policy: Policy,
  lane: string,
  tier: string,
  admission: (lane: string, tier: string) => TierAdmission | null,
): BucketSpec[] {
  const own = policy.tiers[tier]?.priority;
  if (own === undefined) return [];
  const lower = Object.entries(policy.tiers)
    .filter(([, t]) => t.priority < own)
    .sort(([, a], [, b]) => a.priority - b.priority);
  const out: BucketSpec[] = [];
  for (const [name] of lower) {
    const a = admission(lane, name);
    if (!a || a.rate === null) continue;
    out.push({ bucket: `${lane}/${name}`, ratePerSec: a.rate, burst: a.burst });
  }
  return out;
}
