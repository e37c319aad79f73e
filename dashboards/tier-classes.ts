import { isPaidTier } from '../common/policy/paid-tiers.ts';
import type { Policy } from '../common/policy/schema.ts';

/**
 * Label matchers that depend on the policy: which tiers are paid. Dashboards and alerts are
 * generated from the policy in policies/, so a tier added there shows up after `generate`.
 */
export interface TierClasses {
  /** Regex of paid tier names, e.g. `plus|pro`. */
  paid: string;
  /** Regex of the other tiers, e.g. `free`. */
  unpaid: string;
}

export function tierClasses(policy: Policy): TierClasses {
  const names = Object.keys(policy.tiers).sort();
  const paid = names.filter((t) => isPaidTier(policy.tiers, t));
  const unpaid = names.filter((t) => !isPaidTier(policy.tiers, t));
  // A regex that matches nothing keeps the queries valid when a class is empty.
  const alternation = (xs: string[]) => (xs.length ? xs.join('|') : '^$');
  return { paid: alternation(paid), unpaid: alternation(unpaid) };
}

/**
 * Refusals that are the service's doing (capacity, brownout, shedding), as opposed to an
 * account's own rate limit or a rollout gate: these are the ones a paid user must never see.
 */
export const CAPACITY_REFUSAL = 'reason!~"account_rate|rollout|unknown_tier"';
