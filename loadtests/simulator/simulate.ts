import type { AdmissionState, GatewaySignal, QueueStats } from '../../common/contracts/index.ts';
import type { ActivePolicy } from '../../common/policy/schema.ts';
import type { ControlView } from '../../controller/control-step.ts';
import { classRatesAt, stageAt } from '../runner/arrivals.ts';
import type { Campaign, Fault } from '../campaign-schema.ts';
import { entryCost, referenceEntry } from '../reference-request.ts';
import { triggerEndMs } from '../runner/verdict.ts';
import { type AdmissionSource, admissionSource, type ControllerMode } from './admission-source.ts';
import { type FlowTotals, GatewayFlows, type RequestGroup, zeroFlows } from './gateway-flows.ts';
import { GpuQueues } from './gpu-queues.ts';
import { laneTier, tiersByPriorityOf } from './lane-tier.ts';
import { WorkerPools } from './worker-pools.ts';

/**
 * A discrete-time simulation of many gateways, workers and the controller at full scale. Time
 * advances one control interval per tick; arrivals are aggregated per tick and lane × tier (a
 * fluid, not one event per request), so a week of 700 M requests is ~600 k ticks. The admission
 * state comes from the REAL controller step (or a baseline), fed with signals the simulated
 * plant reports in the contract formats.
 */
export interface SimOptions {
  controller?: ControllerMode;
  /** Ticks per plotted point are chosen so a series has at most this many points. */
  maxPoints?: number;
}

export interface TierFigures {
  offered: number;
  completed: number;
  availability: number | null;
  shedAttempts: number;
  refusedFinal: number;
  gaveUp: number;
  expired: number;
  waitP50Ms: number;
  waitP90Ms: number;
  waitP99Ms: number;
}

export interface SimSeries {
  /** Hours since the start. */
  x: number[];
  offered: Record<string, number[]>;
  admitted: Record<string, number[]>;
  completed: Record<string, number[]>;
  shed: Record<string, number[]>;
  expired: Record<string, number[]>;
  waitMeanMs: Record<string, number[]>;
  capacity: number[];
  estimatedCapacity: (number | null)[];
  gpuUtilisation: number[];
  backlog: number[];
  brownout: Record<string, number[]>;
}

export interface SimResult {
  campaign: string;
  controller: ControllerMode;
  simulatedMs: number;
  wallMs: number;
  /** CPU time of the run: what the code costs, whatever else shares the machine. */
  cpuMs: number;
  ticks: number;
  tickMs: number;
  tiers: Record<string, TierFigures>;
  paidAvailability: number | null;
  gpuUtilisation: number;
  /** Mean utilisation over the ticks where demand exceeded capacity. */
  gpuUtilisationOverloaded: number | null;
  overloadedTicks: number;
  paidRefusedWhileFreeAdmittedTicks: number;
  signups: { offered: number; admitted: number };
  /** Ticks after the last trigger until the backlog was back to normal for good; null = never. */
  recoverySeconds: number | null;
  faults: { at: number; kind: string; applied: boolean; note: string }[];
  series: SimSeries;
}

interface Disturbance {
  storeMs: number;
  authMs: number;
  blobMs: number;
}

function capacityAt(c: Campaign, t: number, fallback: number): number {
  let cap = fallback;
  let start = 0;
  for (const s of c.stages) {
    if (start > t) break;
    if (s.capacity !== undefined) cap = s.capacity;
    start += s.duration;
  }
  return cap;
}

export function simulateCampaign(c: Campaign, active: ActivePolicy, o: SimOptions = {}): SimResult {
  const wallStart = performance.now();
  const cpuStart = process.cpuUsage();
  const policy = active.policy;
  const mode = o.controller ?? 'on';
  const tickMs = policy.control.interval;
  const sim = c.simulation ?? { capacity: 10, gateways: 2, workers: 2, passMs: 500, retryingClients: 1 };
  // Capacity is in cost units; `rateUnit: capacity` means requests/s of the reference request.
  const unit = c.rateUnit === 'capacity' ? sim.capacity / entryCost(policy, referenceEntry(c)) : 1;
  const total = c.stages.reduce((s, x) => s + x.duration, 0);
  const ticks = Math.ceil(total / tickMs);
  const lanes = Object.keys(policy.lanes);
  const tiers = tiersByPriorityOf(policy);
  const keys = lanes.flatMap((l) => tiers.map((t) => laneTier(l, t)));
  const keyLane = keys.map((k) => k.split('/')[0]);
  const keyTier = keys.map((k) => k.split('/')[1]);
  const paid = new Set(c.paidTiers);
  const model =
    policy.models.available.find((m) => m.name === policy.models.default) ?? policy.models.available[0];
  // Signals cost controller time per tick: a few pools and gateways stand for the many.
  const poolCount = Math.max(1, Math.min(4, sim.workers));
  const pools = new WorkerPools(poolCount, lanes, sim.passMs, model.passes);
  const queues = new GpuQueues(policy);
  const flows = new GatewayFlows(policy, c.client, sim.retryingClients, tickMs);
  const source: AdmissionSource = admissionSource(mode, active);
  const gatewayCount = Math.max(1, Math.min(2, sim.gateways));
  const issued: Record<string, number> = {};
  const served: Record<string, number> = {};
  const expiredTotal: Record<string, number> = {};
  const disturb: Disturbance = { storeMs: 0, authMs: 0, blobMs: 0 };
  const faultLog: SimResult['faults'] = [];
  const pendingFaults = [...c.faults].sort((a, b) => a.at - b.at);
  const undo: { at: number; run: () => void }[] = [];
  let signupsOffered = 0;
  let signupsAdmitted = 0;

  const every = Math.max(1, Math.ceil(ticks / (o.maxPoints ?? 1500)));
  const series = emptySeries(keys, tiers);
  const window = {
    servedCost: 0,
    capacity: 0,
    estimated: 0 as number | null,
    backlog: 0,
    n: 0,
    flows: new Map<string, FlowTotals>(),
    started: {} as Record<string, number>,
    expired: {} as Record<string, number>,
    brownout: {} as Record<string, number>,
  };
  const backlogByTick = new Float64Array(ticks);

  let state = source.next({ now: 0, signals: [], queue: [], storePingMs: 2 }).state;
  let view: ControlView | null = null;
  let busyCost = 0;
  let capSum = 0;
  let overloadedTicks = 0;
  let overloadedUtil = 0;
  let paidRefusedTicks = 0;

  const stageStarts = new Set<number>();
  c.stages.reduce((start, st) => {
    stageStarts.add(start);
    return start + st.duration;
  }, 0);
  let busy = true;
  let fineUntil = SETTLE_TICKS;
  for (let tick = 0; tick < ticks; ) {
    const now = tick * tickMs;
    while (pendingFaults.length && pendingFaults[0].at <= now) {
      applyFault(pendingFaults.shift()!);
      fineUntil = tick + SETTLE_TICKS;
    }
    if (stageStarts.has(now)) fineUntil = tick + SETTLE_TICKS;
    for (let i = undo.length - 1; i >= 0; i--) {
      if (undo[i].at <= now) {
        undo[i].run();
        undo.splice(i, 1);
      }
    }
    // While nothing queues, sheds or waits to retry, one step may cover several intervals (up to
    // the next stage or fault): the controller sees the same signals, only less often. Any change
    // of stage, fault or plant state is then followed interval by interval for a while.
    const k: number =
      busy || tick < fineUntil
        ? 1
        : Math.max(1, Math.min(QUIET_STEP, ticks - tick, ticksUntil(nextEvent(now), now)));
    const dtMs: number = k * tickMs;
    const stage = stageAt(c, now);
    const perPool = capacityAt(c, now, sim.capacity) / poolCount;
    const capacity = perPool * pools.alive;

    // Arrivals: this step's expected first attempts plus the retries that come due.
    const groups: RequestGroup[] = classRatesAt(c, now + dtMs / 2, unit).map((cls) => ({
      entry: cls.entry,
      count: (cls.rate * dtMs) / 1000,
      retries: 0,
      firstAt: now,
    }));
    groups.push(...flows.retriesDue(tick + k));
    flows.beginStep();
    for (const a of flows.admit(tick, now, groups, state, dtMs)) {
      queues.enqueue(a.lane, a.tier, now, a.jobs, a.costPerJob, a.chargedPerJob);
      issued[laneTier(a.lane, a.tier)] = (issued[laneTier(a.lane, a.tier)] ?? 0) + a.jobs;
    }
    const signups = ((stage?.stage.signups ?? 0) * dtMs) / 1000;
    signupsOffered += signups;
    signupsAdmitted +=
      state.signup.rate === null ? signups : Math.min(signups, (state.signup.rate * dtMs) / 1000);

    const demandCost = queues.backlogCost();
    const budget: number = (capacity * dtMs) / 1000;
    const res = queues.serve(now, budget);
    let startedJobs = 0;
    let expiredJobs = 0;
    for (const [key, n] of Object.entries(res.started)) {
      served[key] = (served[key] ?? 0) + n;
      startedJobs += n;
    }
    for (const [key, n] of Object.entries(res.expired)) {
      served[key] = (served[key] ?? 0) + n;
      expiredTotal[key] = (expiredTotal[key] ?? 0) + n;
      expiredJobs += n;
    }
    const util = budget > 0 ? Math.min(1, res.servedCost / budget) : 0;
    // Workers report what admission charged for the jobs they finish (the job message's cost),
    // so under brownout the learned capacity rises with the work each job no longer does.
    pools.book(res.chargedCost, startedJobs, expiredJobs, {
      utilisation: util,
      dtMs,
      perPoolCapacity: perPool,
    });
    busyCost += res.servedCost;
    capSum += budget;
    const delta = stepFlows(flows.step, keys);
    const offeredCost = keys.reduce((sum, key) => sum + delta[key].offeredCost, 0);
    // Demand beyond capacity: what arrived this step, or a queue it cannot clear.
    if (offeredCost > budget || demandCost > budget) {
      overloadedTicks += k;
      overloadedUtil += util * k;
    }
    // Lanes are bulkheads: the promise is per lane (no paid refusal while the same lane admits free).
    const paidShed: Record<string, number> = {};
    const freeAdmitted: Record<string, number> = {};
    for (const [i, key] of keys.entries()) {
      const lane = keyLane[i];
      if (paid.has(keyTier[i])) paidShed[lane] = (paidShed[lane] ?? 0) + delta[key].shed;
      else freeAdmitted[lane] = (freeAdmitted[lane] ?? 0) + delta[key].admitted;
    }
    if (lanes.some((l) => (paidShed[l] ?? 0) > 1e-6 && (freeAdmitted[l] ?? 0) > 1e-6)) paidRefusedTicks += k;
    const backlogNow = queues.backlogCost();
    backlogByTick.fill(backlogNow, tick, tick + k);

    // The controller's interval: signals as the plant would report them, then the next state.
    const step = source.next({
      now,
      signals: [
        ...pools.signals(now, perPool, util, {
          storeMs: 3 + disturb.storeMs,
          blobMs: 20 + disturb.blobMs,
          oldestMs: queues.oldestMs(now),
        }),
        ...gatewaySignals(now, flows.totals, gatewayCount, disturb, signupsOffered),
      ],
      queue: queueStats(keys, issued, served),
      storePingMs: 2 + disturb.storeMs,
    });
    state = step.state;
    view = step.view ?? view;
    const wasBusy: boolean = busy;
    const shedNow = keys.reduce((sum, key) => sum + delta[key].shed, 0);
    busy =
      backlogNow > budget * 0.01 || shedNow > 1e-6 * budget || flows.hasPendingRetries() || restricted(state);
    if (busy !== wasBusy) fineUntil = tick + SETTLE_TICKS;

    // Plot windows.
    window.n += k;
    window.servedCost += util * k;
    window.capacity += capacity * k;
    window.estimated = view ? (window.estimated ?? 0) + view.capacity.total * k : null;
    window.backlog += backlogNow * k;
    for (const [i, key] of keys.entries()) {
      const f = window.flows.get(key) ?? zeroFlows();
      for (const field of ['offered', 'admitted', 'shed'] as const) f[field] += delta[key][field];
      window.flows.set(key, f);
      window.started[key] = (window.started[key] ?? 0) + (res.started[key] ?? 0);
      window.expired[key] = (window.expired[key] ?? 0) + (res.expired[key] ?? 0);
      const level = state.lanes[keyLane[i]]?.[keyTier[i]]?.brownout.level ?? 0;
      window.brownout[key] = Math.max(window.brownout[key] ?? 0, level);
    }
    tick += k;
    if (window.n >= every || tick >= ticks) flush(tick * tickMs);
  }

  function nextEvent(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    let start = 0;
    for (const s of c.stages) {
      start += s.duration;
      if (start > now) {
        next = start;
        break;
      }
    }
    if (pendingFaults.length) next = Math.min(next, pendingFaults[0].at);
    for (const u of undo) next = Math.min(next, u.at);
    return next;
  }

  function ticksUntil(at: number, now: number): number {
    return Number.isFinite(at) ? Math.ceil((at - now) / tickMs) : QUIET_STEP;
  }

  function flush(at: number) {
    const secs = (window.n * tickMs) / 1000;
    series.x.push(at / 3_600_000);
    for (const t of tiers) {
      const sum = (pick: (k: string) => number) =>
        keys.filter((k) => k.endsWith(`/${t}`)).reduce((s, k) => s + pick(k), 0) / secs;
      series.offered[t].push(sum((k) => window.flows.get(k)?.offered ?? 0));
      series.admitted[t].push(sum((k) => window.flows.get(k)?.admitted ?? 0));
      series.shed[t].push(sum((k) => window.flows.get(k)?.shed ?? 0));
      series.completed[t].push(sum((k) => window.started[k] ?? 0));
      series.expired[t].push(sum((k) => window.expired[k] ?? 0));
      series.waitMeanMs[t].push(queues.waits.get(t)!.mean());
    }
    series.capacity.push(window.capacity / window.n);
    series.estimatedCapacity.push(window.estimated === null ? null : window.estimated / window.n);
    series.gpuUtilisation.push(window.servedCost / window.n);
    series.backlog.push(window.backlog / window.n);
    for (const k of keys) series.brownout[k].push(window.brownout[k] ?? 0);
    Object.assign(window, {
      servedCost: 0,
      capacity: 0,
      estimated: 0,
      backlog: 0,
      n: 0,
      flows: new Map(),
      started: {},
      expired: {},
      brownout: {},
    });
  }

  function applyFault(f: Fault) {
    const until = f.for === undefined ? Number.POSITIVE_INFINITY : f.at + f.for;
    const note = f.for === undefined ? 'until the end' : `for ${f.for / 1000} s`;
    switch (f.kind) {
      case 'kill-workers': {
        const killed = pools.kill(Math.max(1, Math.round((f.fraction ?? 0.5) * pools.alive)));
        undo.push({ at: until, run: () => pools.revive(killed) });
        break;
      }
      case 'add-workers': {
        const added = pools.add(Math.max(1, Math.round((f.fraction ?? 0.5) * pools.alive)));
        undo.push({ at: until, run: () => pools.remove(added) });
        break;
      }
      case 'slow-store':
      case 'slow-auth':
      case 'slow-blob': {
        const field = f.kind === 'slow-store' ? 'storeMs' : f.kind === 'slow-auth' ? 'authMs' : 'blobMs';
        disturb[field] += f.latency ?? 200;
        undo.push({
          at: until,
          run: () => {
            disturb[field] -= f.latency ?? 200;
          },
        });
        break;
      }
      default:
        faultLog.push({ at: f.at, kind: f.kind, applied: false, note: 'not modelled by the simulator' });
        return;
    }
    faultLog.push({ at: f.at, kind: f.kind, applied: true, note });
  }

  const tierFigures: Record<string, TierFigures> = {};
  for (const t of tiers) {
    const ks = keys.filter((k) => k.endsWith(`/${t}`));
    const sum = (pick: (f: FlowTotals) => number) =>
      ks.reduce((s, k) => s + pick(flows.totals.get(k) ?? zeroFlows()), 0);
    const offered = sum((f) => f.offered);
    const completed = ks.reduce((s, k) => s + (served[k] ?? 0) - (expiredTotal[k] ?? 0), 0);
    const w = queues.waits.get(t)!;
    tierFigures[t] = {
      offered,
      completed,
      availability: offered > 0 ? completed / offered : null,
      shedAttempts: sum((f) => f.shed),
      refusedFinal: sum((f) => f.refusedFinal),
      gaveUp: sum((f) => f.gaveUp),
      expired: ks.reduce((s, k) => s + (expiredTotal[k] ?? 0), 0),
      waitP50Ms: w.quantile(0.5),
      waitP90Ms: w.quantile(0.9),
      waitP99Ms: w.quantile(0.99),
    };
  }
  const paidOffered = c.paidTiers.reduce((s, t) => s + (tierFigures[t]?.offered ?? 0), 0);
  const paidCompleted = c.paidTiers.reduce((s, t) => s + (tierFigures[t]?.completed ?? 0), 0);
  return {
    campaign: c.name,
    controller: mode,
    simulatedMs: total,
    wallMs: performance.now() - wallStart,
    cpuMs: cpuMs(process.cpuUsage(cpuStart)),
    ticks,
    tickMs,
    tiers: tierFigures,
    paidAvailability: paidOffered > 0 ? paidCompleted / paidOffered : null,
    gpuUtilisation: capSum > 0 ? busyCost / capSum : 0,
    gpuUtilisationOverloaded: overloadedTicks ? overloadedUtil / overloadedTicks : null,
    overloadedTicks,
    paidRefusedWhileFreeAdmittedTicks: paidRefusedTicks,
    signups: { offered: signupsOffered, admitted: signupsAdmitted },
    recoverySeconds: recovery(c, backlogByTick, tickMs),
    faults: faultLog,
    series,
  };
}

/** Steps of this many intervals while the plant is quiet. */
const QUIET_STEP = 10;
/** Intervals stepped one by one after the plant changes state, and at each stage or fault. */
const SETTLE_TICKS = 60;

/** Any lane × tier async-only or shed: the controller is acting, step finely. */
function restricted(state: AdmissionState): boolean {
  for (const tiers of Object.values(state.lanes)) {
    for (const t of Object.values(tiers)) if (t.mode !== 'open') return true;
  }
  return false;
}

function emptySeries(keys: string[], tiers: string[]): SimSeries {
  const per = () => Object.fromEntries(tiers.map((t) => [t, [] as number[]]));
  return {
    x: [],
    offered: per(),
    admitted: per(),
    completed: per(),
    shed: per(),
    expired: per(),
    waitMeanMs: per(),
    capacity: [],
    estimatedCapacity: [],
    gpuUtilisation: [],
    backlog: [],
    brownout: Object.fromEntries(keys.map((k) => [k, [] as number[]])),
  };
}

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

function stepFlows(step: Map<string, FlowTotals>, keys: string[]): Record<string, FlowTotals> {
  const out: Record<string, FlowTotals> = {};
  for (const k of keys) out[k] = step.get(k) ?? ZERO;
  return out;
}

const ZERO = zeroFlows();

function gatewaySignals(
  now: number,
  totals: Map<string, FlowTotals>,
  n: number,
  d: Disturbance,
  signups: number,
): GatewaySignal[] {
  const pick = (f: (t: FlowTotals) => number) =>
    Object.fromEntries([...totals].map(([k, t]) => [k, f(t) / n]));
  const offered = pick((t) => t.offeredCost + 0);
  const admitted = pick((t) => t.admittedCost);
  const shed = pick((t) => t.shedCost);
  return Array.from({ length: n }, (_, i) => ({
    source: 'gateway' as const,
    id: `sim-gateway-${i}`,
    at: now,
    authLatencyMs: 5 + d.authMs,
    authErrorRate: 0,
    authCacheHitRate: 0.95,
    storeLatencyMs: 3 + d.storeMs,
    offered,
    admitted,
    shed,
    signups: signups / n,
  }));
}

function queueStats(
  keys: string[],
  issued: Record<string, number>,
  served: Record<string, number>,
): QueueStats[] {
  return keys.map((k) => {
    const [lane, tier] = k.split('/');
    return { lane, tier, issued: Math.round(issued[k] ?? 0), served: Math.round(served[k] ?? 0) };
  });
}

/** Normal = backlog no more than twice the first stage's average (plus one tick of capacity). */
function recovery(c: Campaign, backlog: Float64Array, tickMs: number): number | null {
  const endMs = triggerEndMs(c);
  if (endMs === null) return null;
  const firstTicks = Math.max(1, Math.floor(c.stages[0].duration / tickMs));
  let base = 0;
  for (let i = 0; i < firstTicks; i++) base += backlog[i];
  base /= firstTicks;
  const limit = 2 * base + 1;
  const from = Math.ceil(endMs / tickMs);
  let ok: number | null = null;
  for (let i = from; i < backlog.length; i++) {
    if (backlog[i] <= limit) ok ??= i;
    else ok = null;
  }
  return ok === null ? null : ((ok - from) * tickMs) / 1000;
}
