import type { AdmissionMode, AdmissionState, TierAdmission } from '../common/contracts/index.ts';
import type { Policy } from '../common/policy/schema.ts';
import { laneTier } from './observation.ts';
import { queueFill, targetWaitMs } from './queue-first.ts';
import { isPaidTier, tiersByPriority as byPriority } from '../common/policy/paid-tiers.ts';
import { burstFor, staticTierAdmission } from '../common/policy/static-admission.ts';

/** One lane as the law left it: a budget in cost units per second, to be split among tiers. */
export interface LaneBudget {
  lane: string;
  /** null when capacity is unknown: the lane runs on the static fallback. */
  budget: number | null;
  /** Offered cost units per second per tier (0 when unknown). */
  demand: Record<string, number>;
  /** Expected wait of a job admitted now, per tier; null when unknown. */
  waitsMs: Record<string, number | null>;
}

export interface DecisionInput {
  policy: Policy;
  lanes: LaneBudget[];
  /** Share of policy.signup.global still allowed, from the auth and store saturation (0..1). */
  signupFactor: number;
  /** Brownout level per `lane/tier` from the previous interval. */
  brownout: Record<string, number>;
}

export interface Decision {
  lanes: AdmissionState['lanes'];
  signup: AdmissionState['signup'];
  brownout: Record<string, number>;
  reasons: string[];
}

/** A tier that gets less than this share of what it asks for is being refused in part. */
const SATISFIED = 0.999;
/** Brownout steps back only once a tier asks for clearly less than it is given (hysteresis). */
const RELAX_BELOW = 0.8;

/**
 * The pure post-processing every law's output goes through, in this order: strict priority
 * (budget goes to tiers highest first, so a lower tier is squeezed to nothing before a higher one
 * loses a request), queue first (a paid tier below its target wait is admitted above the budget,
 * see queue-first.ts), each tier's waits (async-only past syncWait, shed past maxWait, and never a
 * lower tier more open than a higher one), brownout before refusal, and the sign-up cut.
 */
export function decide(input: DecisionInput): Decision {
  const { policy } = input;
  const tiers = byPriority(policy.tiers);
  const lanes: AdmissionState['lanes'] = {};
  const brownout: Record<string, number> = {};
  const reasons: string[] = [];
  for (const view of input.lanes) {
    lanes[view.lane] = {};
    if (view.budget === null) {
      for (const tier of tiers) lanes[view.lane][tier] = staticTierAdmission(policy, view.lane, tier);
      reasons.push(`${view.lane}: capacity unknown, static fallback rates`);
      continue;
    }
    let remaining = view.budget;
    // What may still be queued above the budget: never more for a lower tier than for a higher one.
    let allowance = Number.POSITIVE_INFINITY;
    let floor: AdmissionMode = 'open';
    for (const tier of tiers) {
      const t = policy.tiers[tier];
      const key = laneTier(view.lane, tier);
      const demand = view.demand[tier] ?? 0;
      const wait = view.waitsMs[tier] ?? 0;
      allowance = Math.min(allowance, queueAllowance(policy, tier, view.budget, wait));
      const rate = remaining + allowance;
      // The budget is spent first, then the allowance. A tier that takes its whole rate leaves
      // exactly nothing below it: subtracting would leave float dust (1e-234 units/s) that opened
      // the next tier where an exact zero sheds it (found by the monotonicity property).
      const served = Math.min(demand, rate);
      if (served >= rate) {
        remaining = 0;
        allowance = 0;
      } else {
        const fromBudget = Math.min(served, remaining);
        remaining -= fromBudget;
        allowance = Math.max(0, allowance - (served - fromBudget));
      }
      let mode: AdmissionMode = floor;
      if (rate <= 0 || wait > t.maxWait) mode = 'shed';
      else if (wait > t.syncWait && mode === 'open') mode = 'async-only';
      if (mode === 'shed') {
        remaining = 0;
        allowance = 0;
      }
      floor = mode;
      const refusing = mode !== 'open' || demand > rate * SATISFIED;
      const level = nextBrownoutLevel(
        input.brownout[key] ?? 0,
        t.brownout.length,
        refusing,
        demand < rate * RELAX_BELOW,
      );
      brownout[key] = level;
      lanes[view.lane][tier] = tierAdmission(policy, tier, mode, rate, level, wait);
      if (mode !== 'open') reasons.push(`${key}: ${mode} (wait ${Math.round(wait / 1000)}s)`);
      else if (demand > rate * SATISFIED)
        reasons.push(`${key}: capped at ${rate.toFixed(1)}/s of ${demand.toFixed(1)}/s`);
    }
  }
  const signupRate = policy.signup.global * Math.max(0, Math.min(1, input.signupFactor));
  if (input.signupFactor < 1) reasons.push(`sign-ups cut to ${Math.round(input.signupFactor * 100)} %`);
  return {
    lanes,
    signup: { rate: signupRate, burst: Math.max(1, signupRate) },
    brownout,
    reasons,
  };
}

/**
 * Only paid tiers queue above the budget. Demand is an estimate a second late: a free tier given
 * room above the budget took, in the closed-loop test, tokens a paid burst then lacked — a paid
 * request refused while free ones were admitted. Below the budget the free tier still queues
 * (the law fills the queue towards its target wait).
 */
function queueAllowance(policy: Policy, tier: string, budget: number, waitMs: number): number {
  if (!isPaidTier(policy.tiers, tier)) return 0;
  return queueFill(budget, waitMs, targetWaitMs(policy.tiers[tier].syncWait, policy.control.targetWait));
}

/** Brownout climbs one step per interval under pressure and steps back once demand clearly fits. */
export function nextBrownoutLevel(prev: number, steps: number, refusing: boolean, relaxed: boolean): number {
  if (refusing) return Math.min(steps, prev + 1);
  if (relaxed) return Math.max(0, prev - 1);
  return Math.min(steps, prev);
}

function tierAdmission(
  policy: Policy,
  tier: string,
  mode: AdmissionMode,
  rate: number,
  level: number,
  waitMs: number,
): TierAdmission {
  const t = policy.tiers[tier];
  const effective = mode === 'shed' ? 0 : rate;
  // Steps are cumulative: each one keeps what the milder ones took away unless it says otherwise.
  const step = Object.assign({ edits: true }, ...t.brownout.slice(0, level));
  const brownout: TierAdmission['brownout'] = { level };
  if (step.passes !== undefined) brownout.passes = step.passes;
  if (step.maxSize !== undefined) brownout.maxSize = step.maxSize;
  if (step.partialImages !== undefined) brownout.partialImages = step.partialImages;
  return {
    mode,
    rate: effective,
    burst: mode === 'shed' ? 0 : burstFor(effective, policy.control.interval, policy),
    brownout,
    edits: mode !== 'shed' && step.edits !== false,
    expectedWaitMs: Number.isFinite(waitMs) ? Math.round(waitMs) : t.maxWait * 10,
    maxWaitMs: t.maxWait,
  };
}

/** Share of policy.signup.global allowed: full below 80 % of the auth/store targets, none at them. */
export function signupFactor(dependencySaturation: number | null): number {
  // Unknown is not fine: sign-ups run at half until auth and store are heard from again.
  if (dependencySaturation === null) return 0.5;
  const CUT_FROM = 0.8;
  if (dependencySaturation <= CUT_FROM) return 1;
  return Math.max(0, (1 - dependencySaturation) / (1 - CUT_FROM));
}
