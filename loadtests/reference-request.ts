import { parseSize } from '../common/contracts/index.ts';
import { requestCost } from '../common/policy/request-cost.ts';
import type { Policy } from '../common/policy/schema.ts';
import type { Campaign, MixEntry } from './campaign-schema.ts';

/**
 * The request a campaign's `rateUnit: capacity` is measured in: its first paid entry (else its
 * first entry), generated synchronously. The runner probes the target's capacity with it and the
 * simulator converts its cost-unit capacity to requests with it, so both mean the same rate.
 */
export function referenceEntry(c: Campaign): MixEntry {
  const paid = [...c.mix, ...c.stages.flatMap((s) => s.mix ?? [])].find((e) => c.paidTiers.includes(e.tier));
  const base = paid ?? c.mix[0];
  return { ...base, delivery: 'sync', operation: 'generate', weight: 1 };
}

/** What one request of a mix entry costs, priced as the gateway prices it. */
export function entryCost(policy: Policy, entry: MixEntry): number {
  const { width, height } = parseSize(entry.size);
  return requestCost(policy, entry.operation, 1, width, height);
}
