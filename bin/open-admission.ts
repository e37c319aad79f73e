import type { AdmissionState } from '../common/contracts/index.ts';
import type { Infra } from '../common/infra.ts';
import type { PolicySource } from '../common/policy/policy-source.ts';
import { uncappedTierAdmission } from '../common/policy/static-admission.ts';

/**
 * The no-shedding baseline (SPILLWAY_CONTROLLER=off): publishes an always-open admission state
 * with no global cap, so gateways queue everything FIFO. Only for load-test comparisons.
 */
export function openAdmissionState(policy: PolicySource, version: number, now: number): AdmissionState {
  const p = policy.current();
  const lanes: AdmissionState['lanes'] = {};
  for (const lane of Object.keys(p.policy.lanes)) {
    lanes[lane] = {};
    for (const [tier, t] of Object.entries(p.policy.tiers))
      lanes[lane][tier] = uncappedTierAdmission(t.maxWait);
  }
  return {
    v: 1,
    version,
    epoch: 0,
    issuedAt: now,
    ttlMs: 60_000,
    policyVersion: p.version,
    law: 'open',
    lanes,
    signup: { rate: null, burst: 0 },
    reasons: ['controller off: no shedding baseline'],
  };
}

export function openAdmission(infra: Infra, policy: PolicySource): { close(): Promise<void> } {
  let version = 0;
  const publish = () => void infra.coord.publishAdmission(openAdmissionState(policy, ++version, Date.now()));
  publish();
  const timer = setInterval(publish, 1000);
  timer.unref();
  return { close: async () => clearInterval(timer) };
}
