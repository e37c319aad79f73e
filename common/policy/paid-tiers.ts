import type { Policy } from './schema.ts';

/**
 * Whether a tier is paid. A tier may say so with `paid:`; otherwise every tier but the
 * lowest-priority one is paid. Paid tiers get the "never refused while a lower tier is admitted"
 * guarantee, so the semantic checks refuse policies that would turn all their requests away.
 */
export function isPaidTier(tiers: Policy['tiers'], name: string): boolean {
  const tier = tiers[name];
  if (!tier) return false;
  if (tier.paid !== undefined) return tier.paid;
  return name !== lowestPriorityTier(tiers);
}

export function lowestPriorityTier(tiers: Policy['tiers']): string | undefined {
  let lowest: string | undefined;
  for (const [name, t] of Object.entries(tiers)) {
    if (lowest === undefined || t.priority < tiers[lowest].priority) lowest = name;
  }
  return lowest;
}

/** Tier names, highest priority first: the order admission serves and sheds them. */
export function tiersByPriority(tiers: Policy['tiers']): string[] {
  return Object.keys(tiers).sort((a, b) => tiers[b].priority - tiers[a].priority);
}

/**
 * The static rate (cost units per second, all gateways together) for lane × tier when the
 * controller's state is stale. A missing entry means 0: fail safe, never open.
 */
export function fallbackRate(policy: Policy, lane: string, tier: string): number {
  return policy.fallback[lane]?.[tier] ?? 0;
}
