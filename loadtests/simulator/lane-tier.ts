import type { Policy } from '../../common/policy/schema.ts';
import { tiersByPriority } from '../../common/policy/paid-tiers.ts';
import { laneTier as controllerLaneTier } from '../../controller/observation.ts';

/** The simulator keys everything as the controller does (`lane/tier`), with the controller's own functions. */
export const laneTier = controllerLaneTier;

export function tiersByPriorityOf(policy: Policy): string[] {
  return tiersByPriority(policy.tiers);
}
