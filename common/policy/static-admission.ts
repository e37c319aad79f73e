import type { AdmissionState, TierAdmission } from '../contracts/index.ts';
import { fallbackRate, tiersByPriority } from './paid-tiers.ts';
import type { ActivePolicy, Policy } from './schema.ts';

/**
 * The admission state derived from policy alone. Gateways apply it when the controller's state is
 * stale or missing; the controller starts from it. Shared here because both services need it and
 * neither may import the other.
 */

/** One interval's worth of tokens, but never less than the costliest single request (an edit). */
export function burstFor(rate: number, intervalMs: number, policy: Policy): number {
  const largest = Math.max(policy.operations.generate.cost, policy.operations.edit.cost);
  return Math.max(largest, (rate * intervalMs) / 1000);
}

/** A lane × tier admitted without a cap or a brownout: the no-shedding baseline, benches and tests. */
export function uncappedTierAdmission(maxWaitMs: number): TierAdmission {
  return {
    mode: 'open',
    rate: null,
    burst: 0,
    brownout: { level: 0 },
    edits: true,
    expectedWaitMs: 0,
    maxWaitMs,
  };
}

/** The static limit of one lane × tier: the policy's fallback rate, or shed when it names none. */
export function staticTierAdmission(policy: Policy, lane: string, tier: string): TierAdmission {
  const rate = fallbackRate(policy, lane, tier);
  const maxWaitMs = policy.tiers[tier].maxWait;
  if (rate <= 0) {
    return {
      mode: 'shed',
      rate: 0,
      burst: 0,
      brownout: { level: 0 },
      edits: false,
      expectedWaitMs: 0,
      maxWaitMs,
    };
  }
  return {
    mode: 'open',
    rate,
    burst: burstFor(rate, policy.control.interval, policy),
    brownout: { level: 0 },
    edits: true,
    expectedWaitMs: 0,
    maxWaitMs,
  };
}

/**
 * The policy's static fallback rates per lane × tier. Fail safe, never open: a lane × tier the
 * fallback does not name is shed, and every rate is capped.
 */
export function staticAdmission(active: ActivePolicy | Policy, now: number): AdmissionState {
  const policy = 'policy' in active ? active.policy : active;
  const version = 'policy' in active ? active.version : 'unknown';
  const lanes: AdmissionState['lanes'] = {};
  for (const lane of Object.keys(policy.lanes)) {
    lanes[lane] = {};
    for (const tier of tiersByPriority(policy.tiers))
      lanes[lane][tier] = staticTierAdmission(policy, lane, tier);
  }
  return {
    v: 1,
    version: 0,
    epoch: 0,
    issuedAt: now,
    ttlMs: policy.control.ttl,
    policyVersion: version,
    law: 'static',
    lanes,
    signup: { rate: policy.signup.global, burst: Math.max(1, policy.signup.global) },
    reasons: ['static fallback: policy.fallback rates, no controller state'],
  };
}
