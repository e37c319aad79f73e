import type { AdmissionState, GatewaySignal, WorkerSignal } from '../common/contracts/index.ts';
import type { ActivePolicy, Policy } from '../common/policy/schema.ts';
import { type CapacityEstimate, type CapacityMemory, estimateCapacity, lendUnusedShare } from './capacity.ts';
import { type Decision, decide, type LaneBudget, signupFactor } from './decision.ts';
import { type DemandMemory, estimateDemand, type TrafficRates } from './demand.ts';
import { expectedWaits, serviceTimeMs } from './expected-wait.ts';
import type { ControlLaw, LaneLawInput } from './control-law.ts';
import { lawFor } from './law-registry.ts';
import { type ControlInputs, type Dependency, laneTier, type Saturation } from './observation.ts';
import { targetWaitMs } from './queue-first.ts';
import { dependencySaturations } from './saturation.ts';
import { tiersByPriority as byPriority } from '../common/policy/paid-tiers.ts';

/** What the controller carries from one interval to the next; plain data, so a simulator can hold it. */
export interface ControllerMemory {
  at: number;
  law: string;
  capacity: CapacityMemory | null;
  demand: DemandMemory | null;
  lawMemory: Record<string, unknown>;
  /** The factor each lane's law last chose; what a held capacity keeps using (see lawStep). */
  factors: Record<string, number | null>;
  backlogCost: Record<string, number>;
  brownout: Record<string, number>;
}

/** One lane × tier as the status page shows it. */
export interface TierView {
  lane: string;
  tier: string;
  offered: number;
  admitted: number;
  shed: number;
  backlogJobs: number;
  waitMs: number | null;
  maxWaitMs: number;
  syncWaitMs: number;
}

/** Everything the controller concluded in one interval, for the status page, metrics and logs. */
export interface ControlView {
  at: number;
  law: string;
  capacity: CapacityEstimate;
  laneCapacity: Record<string, number>;
  budgets: Record<string, number | null>;
  factors: Record<string, number | null>;
  tiers: TierView[];
  saturation: Record<Dependency, Saturation>;
  signupFactor: number;
  traffic: TrafficRates;
}

export interface ControlStepResult {
  state: AdmissionState;
  memory: ControllerMemory;
  view: ControlView;
}

/**
 * One control interval, pure: signals and the previous memory in, the admission state to publish
 * and the next memory out. The service calls it with what it read from the stores; a simulated
 * plant calls it with what it made up. Time is only what `inputs.now` says.
 */
export function controlStep(
  inputs: ControlInputs,
  prev: ControllerMemory | null,
  active: ActivePolicy,
  meta: { version: number; epoch: number },
): ControlStepResult {
  const { policy } = active;
  const { now } = inputs;
  const intervalMs = policy.control.interval;
  const law = lawFor(policy.control.law);
  const tiers = byPriority(policy.tiers);
  const lanes = Object.keys(policy.lanes);
  const shares = Object.fromEntries(lanes.map((l) => [l, policy.lanes[l].share]));
  const maxAge = policy.saturation.signalMaxAge;
  const workers = inputs.signals.filter((s): s is WorkerSignal => s.source === 'worker');
  const gateways = inputs.signals.filter((s): s is GatewaySignal => s.source === 'gateway');

  const backlogJobs: Record<string, number> = {};
  for (const q of inputs.queue) backlogJobs[laneTier(q.lane, q.tier)] = Math.max(0, q.issued - q.served);
  const backlogByLane = Object.fromEntries(
    lanes.map((l) => [l, tiers.reduce((a, t) => a + (backlogJobs[laneTier(l, t)] ?? 0), 0)]),
  );

  const cap = estimateCapacity(workers, prev?.capacity ?? null, now, {
    intervalMs,
    maxAgeMs: maxAge,
    laneShares: shares,
    backlogByLane,
    tuning: policy.control.capacity,
  });
  const demand = estimateDemand(gateways, prev?.demand ?? null, now, maxAge, policy.control.demandSmoothing);
  const traffic = demand.rates;
  const jobCost = cap.estimate.jobCost;
  const serviceMs = serviceTimeMs(jobCost, cap.estimate.total, cap.estimate.slots);

  const laneDemand: Record<string, number | null> = {};
  for (const l of lanes) {
    const offered = tiers.reduce((a, t) => a + (traffic.offered[laneTier(l, t)] ?? 0), 0);
    // A lane with work waiting uses all it has; it lends nothing.
    laneDemand[l] = !traffic.known ? null : backlogByLane[l] > 0 ? Number.POSITIVE_INFINITY : offered;
  }
  const laneCapacity = lendUnusedShare(cap.estimate, laneDemand);

  const tierViews: TierView[] = [];
  const lawMemory: Record<string, unknown> = {};
  const lawChanged = prev?.law !== law.name;
  const budgets: Record<string, number | null> = {};
  const factors: Record<string, number | null> = {};
  const laneBudgets: LaneBudget[] = [];
  const backlogCost: Record<string, number> = {};
  let worstWaitRatio: number | null = null;
  const saturationNoQueue = dependencySaturations(workers, gateways, inputs.storePingMs, null, policy, now);
  const pressure = Math.max(
    0,
    ...(['store', 'auth', 'blob'] as const).map((d) => saturationNoQueue[d].value ?? 0),
    (saturationNoQueue.gpu.measured ?? 0) / policy.saturation.passLatencyRatio,
  );

  for (const lane of lanes) {
    const capacity = laneCapacity[lane] ?? 0;
    const backlog: Record<string, number> = {};
    const arrivals: Record<string, number> = {};
    const demandByTier: Record<string, number> = {};
    for (const t of tiers) {
      const key = laneTier(lane, t);
      backlog[t] = (backlogJobs[key] ?? 0) * jobCost;
      arrivals[t] = traffic.admitted[key] ?? 0;
      demandByTier[t] = traffic.offered[key] ?? 0;
    }
    const waits = cap.estimate.known
      ? expectedWaits(tiers, backlog, arrivals, capacity, { offered: demandByTier, serviceMs })
      : null;
    backlogCost[lane] = Object.values(backlog).reduce((a, b) => a + b, 0);

    let headroom = 1;
    let congested = false;
    // Offered demand of the tiers above the highest one past its syncWait (see LaneLawInput.floor).
    let above = 0;
    let protectedDemand: number | null = null;
    for (const t of tiers) {
      const tp = policy.tiers[t];
      const key = laneTier(lane, t);
      const w = waits?.[t] ?? null;
      tierViews.push({
        lane,
        tier: t,
        offered: demandByTier[t],
        admitted: traffic.admitted[key] ?? 0,
        shed: traffic.shed[key] ?? 0,
        backlogJobs: backlogJobs[key] ?? 0,
        waitMs: w,
        maxWaitMs: tp.maxWait,
        syncWaitMs: tp.syncWait,
      });
      if (w === null) continue;
      const active = demandByTier[t] > 0 || backlog[t] > 0;
      if (!active) continue;
      worstWaitRatio = Math.max(worstWaitRatio ?? 0, w / tp.maxWait);
      if (!(w <= tp.syncWait) && protectedDemand === null) protectedDemand = above;
      above += demandByTier[t];
      // A tier that higher tiers' arrivals leave nothing for has no queue the law could correct:
      // admitting less would only refuse those higher tiers (it is shed in decide()).
      if (!Number.isFinite(w)) continue;
      headroom = Math.min(headroom, 1 - w / targetWaitMs(tp.syncWait, policy.control.targetWait));
      if (w > tp.syncWait) congested = true;
    }

    if (!waits) {
      budgets[lane] = null;
      factors[lane] = null;
      laneBudgets.push({ lane, budget: null, demand: demandByTier, waitsMs: {} });
      continue;
    }
    const dt = prev ? Math.max(1, now - prev.at) / 1000 : intervalMs / 1000;
    const before = prev?.backlogCost[lane];
    const backlogSlope =
      before === undefined || capacity <= 0 ? 0 : (backlogCost[lane] - before) / dt / capacity;
    const out = lawStep(law, prev, lawChanged, cap.estimate.heldSince !== null, lane, policy, {
      lane,
      intervalMs,
      capacity,
      headroom: Number.isFinite(headroom) ? headroom : -1,
      congested,
      backlogSlope,
      utilisation: cap.estimate.utilisation,
      pressure,
      floor: protectedDemand === null || capacity <= 0 ? 0 : Math.min(1, protectedDemand / capacity),
    });
    lawMemory[lane] = out.memory;
    factors[lane] = out.factor;
    budgets[lane] = out.factor * capacity;
    laneBudgets.push({ lane, budget: out.factor * capacity, demand: demandByTier, waitsMs: waits });
  }

  const saturation = { ...saturationNoQueue };
  saturation.queue = { ...saturation.queue, value: worstWaitRatio, measured: worstWaitRatio };
  const authStore = maxKnown(saturation.auth.value, saturation.store.value);
  const sf = signupFactor(saturation.auth.value === null ? null : authStore);
  const decision: Decision = decide({
    policy,
    lanes: laneBudgets,
    signupFactor: sf,
    brownout: prev?.brownout ?? {},
  });

  const reasons = [...describeLaws(laneBudgets, factors, cap.estimate), ...decision.reasons];
  if (pressure > 1) reasons.unshift(`bottleneck: ${bottleneck(saturation)}`);
  const state: AdmissionState = {
    v: 1,
    version: meta.version,
    epoch: meta.epoch,
    issuedAt: now,
    ttlMs: policy.control.ttl,
    policyVersion: active.version,
    law: law.name,
    lanes: decision.lanes,
    signup: decision.signup,
    reasons,
  };
  return {
    state,
    memory: {
      at: now,
      law: law.name,
      capacity: cap.memory,
      demand: demand.memory,
      lawMemory,
      factors,
      backlogCost,
      brownout: decision.brownout,
    },
    view: {
      at: now,
      law: law.name,
      capacity: cap.estimate,
      laneCapacity,
      budgets,
      factors,
      tiers: tierViews,
      saturation,
      signupFactor: sf,
      traffic,
    },
  };
}

/**
 * The law's step for one lane, except while capacity is held (no worker live, estimate.heldSince):
 * then the lane keeps the factor and law memory it had. Nothing is served, so the backlog grows
 * whatever is admitted and the law would read that as admitting too much, cutting a paid tier
 * well inside its maxWait; the held estimate's expected waits still shed each tier past its own.
 */
function lawStep(
  law: ControlLaw<unknown>,
  prev: ControllerMemory | null,
  lawChanged: boolean,
  held: boolean,
  lane: string,
  policy: Policy,
  input: LaneLawInput,
): { factor: number; memory: unknown } {
  const before = lawChanged ? null : (prev?.lawMemory[lane] ?? null);
  const factor = prev?.factors[lane];
  if (held && !lawChanged && factor !== undefined && factor !== null) return { factor, memory: before };
  return law.step(input, before, policy);
}

function maxKnown(...xs: (number | null)[]): number | null {
  const known = xs.filter((x): x is number => x !== null);
  return known.length ? Math.max(...known) : null;
}

function bottleneck(s: Record<Dependency, Saturation>): string {
  const [name, sat] = Object.entries(s)
    .filter(([d]) => d !== 'queue')
    .sort(([, a], [, b]) => (b.value ?? 0) - (a.value ?? 0))[0];
  return `${name} at ${(sat.value ?? 0).toFixed(2)}× target`;
}

function describeLaws(
  lanes: LaneBudget[],
  factors: Record<string, number | null>,
  cap: CapacityEstimate,
): string[] {
  if (!cap.known) return ['capacity unknown: no live worker has reported what it finishes'];
  const held =
    cap.heldSince === null
      ? []
      : [
          `capacity held: no live worker since ${new Date(cap.heldSince).toISOString()}, the last learned ${cap.total.toFixed(1)}/s stands in`,
        ];
  return held.concat(
    lanes
      .filter((l) => l.budget !== null)
      .map((l) => `${l.lane}: budget ${l.budget!.toFixed(1)}/s = ${factors[l.lane]!.toFixed(3)} × capacity`),
  );
}
