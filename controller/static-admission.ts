// TEMPORARY re-export while loadtests/simulator moves to the shared module; delete afterwards.
import { tiersByPriority as byPriority } from '../common/policy/paid-tiers.ts';
import type { Policy } from '../common/policy/schema.ts';

export { burstFor, staticAdmission, staticTierAdmission } from '../common/policy/static-admission.ts';

export function tiersByPriority(policy: Policy): string[] {
  return byPriority(policy.tiers);
}
