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
  const out: BucketSpec[] = [];
  for (const name of lowerTiers(policy, tier)) {
    const a = admission(lane, name);
    if (!a || a.rate === null) continue;
    out.push({ bucket: `${lane}/${name}`, ratePerSec: a.rate, burst: a.burst });
  }
  return out;
}

// Per policy object (a reload makes a new one): the request path sorts nothing.
const lowerByPolicy = new WeakMap<Policy, Map<string, string[]>>();

/** The tiers below `tier` in priority, lowest first. */
function lowerTiers(policy: Policy, tier: string): string[] {
  let byTier = lowerByPolicy.get(policy);
  if (!byTier) {
    byTier = new Map();
    lowerByPolicy.set(policy, byTier);
  }
  let lower = byTier.get(tier);
  if (!lower) {
    const own = policy.tiers[tier]?.priority ?? Number.NEGATIVE_INFINITY;
    lower = Object.entries(policy.tiers)
      .filter(([, t]) => t.priority < own)
      .sort(([, a], [, b]) => a.priority - b.priority)
      .map(([name]) => name);
    byTier.set(tier, lower);
  }
  return lower;
}
