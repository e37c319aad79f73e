import type { AdmissionState, TierAdmission } from '../common/contracts/index.ts';
import type { Policy } from '../common/policy/schema.ts';

// PLACEHOLDER until controller/static-admission.ts lands: same shape as the controller's
// `staticAdmission(policy, now)`, used when the published state is older than its ttl or absent.

/** How many seconds of the fallback rate may be taken at once. */
const FALLBACK_BURST_SECONDS = 2;

export function staticAdmission(policy: Policy, now: number): AdmissionState {
  const lanes: AdmissionState['lanes'] = {};
  for (const lane of Object.keys(policy.lanes)) {
    lanes[lane] = {};
    for (const [tier, t] of Object.entries(policy.tiers)) {
      // Fail safe, not open: a lane × tier the fallback does not list gets no capacity.
      const rate = policy.fallback[lane]?.[tier] ?? 0;
      const entry: TierAdmission = {
        mode: rate > 0 ? 'open' : 'shed',
        rate,
        burst: Math.max(rate * FALLBACK_BURST_SECONDS, policy.operations.edit.cost * 4),
        brownout: { level: 0 },
        edits: true,
        expectedWaitMs: 0,
        maxWaitMs: t.maxWait,
      };
      lanes[lane][tier] = entry;
    }
  }
  return {
    v: 1,
    version: 0,
    epoch: 0,
    issuedAt: now,
    ttlMs: Number.MAX_SAFE_INTEGER,
    policyVersion: '',
    law: 'static',
    lanes,
    signup: { rate: policy.signup.global, burst: Math.max(1, policy.signup.global * FALLBACK_BURST_SECONDS) },
    reasons: ['static fallback: no fresh controller state'],
  };
}
