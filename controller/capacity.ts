import type { WorkerSignal } from '../common/contracts/index.ts';
import type { z } from 'zod';
import { CapacityLearning } from '../common/policy/schema.ts';

/**
 * Capacity is learned from what workers actually finish, never read from policy: each worker's
 * cost units per second at full use, smoothed per worker, then summed over the workers alive now.
 * Losing a worker removes its share at once; a slower worker is followed by the smoothing.
 */
export interface WorkerMemory {
  at: number;
  costFinished: number;
  jobsFinished: number;
  /** Start of the window the next sample is measured over, and the slot use seen within it. */
  window: {
    at: number;
    costFinished: number;
    jobsFinished: number;
    busySlotMs: number | null;
    useSum: number;
    useCount: number;
  };
  /** Cost units per second this worker finishes when all its slots are busy; null until learned. */
  capacity: number | null;
}

/**
 * How capacity is learned (policy `control.capacity`). A sample spans at least `sampleJobs`
 * finished jobs (or `sampleWindow`): a job can take longer than a report period, and a window in
 * which a busy worker finished nothing says nothing. `smoothing` is how much a new sample moves a
 * worker's estimate; below `minUse` the finished rate says too little (one busy slot of many is noise).
 */
export type CapacityTuning = z.infer<typeof CapacityLearning>;
export const DEFAULT_CAPACITY_TUNING: CapacityTuning = CapacityLearning.parse({});

export interface CapacityEstimate {
  /** Cost units per second per lane. */
  byLane: Record<string, number>;
  /** Part of byLane coming from workers that serve several lanes (what lanes may lend each other). */
  sharedByLane: Record<string, number>;
  total: number;
  /** Workers counted now. */
  workers: number;
  /** Workers that reported within the lateness window, counted or not yet learned. */
  reporting: number;
  /** Slots of the workers counted now. */
  slots: number;
  /** Cost units per job, learned from the same counters (1 until known). */
  jobCost: number;
  /** Busy slots / total slots across live workers; null when none. */
  utilisation: number | null;
  known: boolean;
  /**
   * Set while no worker is live and the last learned capacity stands in (tuning.holdAfterLoss):
   * when a worker was last counted. null otherwise.
   */
  heldSince: number | null;
}

export interface CapacityMemory {
  workers: Record<string, WorkerMemory>;
  jobCost: number;
  /** The fleet a total loss would hold (see fleetToHold), and when it was estimated. */
  lastLive: { at: number; estimate: CapacityEstimate } | null;
  /**
   * What a worker first heard starts from while a lost fleet is held or coming back (see
   * returningSeed); absent in memories from before it.
   */
  seed?: ReturningSeed | null;
}

export interface ReturningSeed {
  /** The held fleet's cost units per second per slot. */
  perSlot: number;
  /** Its slots: once as many are live again, the fleet is back. */
  slots: number;
  /** The end of the hold: no seeding after it. */
  until: number;
}

/**
 * A worker that missed a report counts for nothing: it may be dead, and an unknown worker is not
 * a working one. Workers report every second (WorkerSignal contract).
 */
export function workerLateAfterMs(
  intervalMs: number,
  lateIntervals = DEFAULT_CAPACITY_TUNING.workerLateIntervals,
): number {
  return lateIntervals * Math.max(intervalMs, 1000);
}

export function estimateCapacity(
  signals: WorkerSignal[],
  prev: CapacityMemory | null,
  now: number,
  opts: {
    intervalMs: number;
    maxAgeMs: number;
    laneShares: Record<string, number>;
    backlogByLane: Record<string, number>;
    /** Policy `control.capacity`; the schema's defaults when absent. */
    tuning?: CapacityTuning;
  },
): { estimate: CapacityEstimate; memory: CapacityMemory } {
  const workers: Record<string, WorkerMemory> = {};
  const byLane: Record<string, number> = {};
  const sharedByLane: Record<string, number> = {};
  for (const lane of Object.keys(opts.laneShares)) {
    byLane[lane] = 0;
    sharedByLane[lane] = 0;
  }
  let busy = 0;
  let slots = 0;
  let live = 0;
  let reporting = 0;
  let costDelta = 0;
  let jobsDelta = 0;
  const tuning = opts.tuning ?? DEFAULT_CAPACITY_TUNING;
  const saturatedLanes = lanesWithWorkForEverySlot(signals, now, opts.backlogByLane, opts.maxAgeMs);
  const seed = prev?.seed && now < prev.seed.until ? prev.seed : null;
  for (const s of signals) {
    const age = now - s.at;
    if (age > opts.maxAgeMs) continue;
    const before = prev?.workers[s.id];
    const learned = learnWorker(s, before, saturatedLanes, tuning, seed?.perSlot ?? null);
    workers[s.id] = learned;
    if (before && s.at > before.at && s.costFinished >= before.costFinished) {
      costDelta += s.costFinished - before.costFinished;
      jobsDelta += s.jobsFinished - before.jobsFinished;
    }
    if (age > workerLateAfterMs(opts.intervalMs, tuning.workerLateIntervals)) continue;
    reporting++;
    if (learned.capacity === null) continue;
    live++;
    busy += s.slotsBusy;
    slots += s.slotsTotal;
    splitAcrossLanes(learned.capacity, s.lanes, opts.laneShares, byLane, sharedByLane);
  }
  const jobCost = jobsDelta > 0 ? costDelta / jobsDelta : (prev?.jobCost ?? 1);
  const total = Object.values(byLane).reduce((a, b) => a + b, 0);
  const estimate: CapacityEstimate = {
    byLane,
    sharedByLane,
    total,
    workers: live,
    reporting,
    slots,
    jobCost,
    utilisation: slots > 0 ? busy / slots : null,
    known: live > 0,
    heldSince: null,
  };
  if (live > 0) {
    const late = workerLateAfterMs(opts.intervalMs, tuning.workerLateIntervals);
    const lastLive = fleetToHold(prev?.lastLive ?? null, estimate, now, late);
    // Seeding goes on until as many slots as the held fleet had are live again.
    const next = seed && slots < seed.slots ? seed : null;
    return { estimate, memory: { workers, jobCost, lastLive, seed: next } };
  }
  const held = heldEstimate(prev?.lastLive ?? null, now, tuning.holdAfterLoss, reporting);
  const lastLive = held ? (prev?.lastLive ?? null) : null;
  return {
    estimate: held ?? estimate,
    memory: {
      workers,
      jobCost,
      lastLive,
      seed: lastLive ? returningSeed(lastLive, tuning.holdAfterLoss) : null,
    },
  };
}

/**
 * What a worker first heard while a lost fleet is held, or while it comes back, starts from: the
 * held fleet's capacity per slot, instead of counting for nothing until it has finished a
 * sample's worth of jobs. Without it the estimate stepped down from the held fleet to whichever
 * returning workers were learned first, each from a first sample taken while it warms up (2.0
 * units/s where 2.73 was held, on the real stack), and every lane's budget stepped down with it
 * while the outage's backlog drained. A seed is smoothed like any estimate, so a slower fleet is followed within a
 * few samples; workers reporting no slots yet are not seeded.
 */
function returningSeed(
  lastLive: NonNullable<CapacityMemory['lastLive']>,
  holdMs: number,
): ReturningSeed | null {
  const { total, slots } = lastLive.estimate;
  if (slots <= 0) return null;
  return { perSlot: total / slots, slots, until: lastLive.at + holdMs };
}

/**
 * Workers that die together are counted late up to a report apart, so the last estimates before a
 * total loss count fewer and fewer of them (measured: 2.62 held where 3.25 was lost). The largest
 * estimate within one lateness window is the fleet that was there; a smaller fleet that lives on
 * past the window replaces it.
 */
function fleetToHold(
  prev: CapacityMemory['lastLive'],
  estimate: CapacityEstimate,
  now: number,
  lateMs: number,
): NonNullable<CapacityMemory['lastLive']> {
  if (prev && now - prev.at <= lateMs && prev.estimate.total > estimate.total) return prev;
  return { at: now, estimate };
}

/**
 * With every worker gone, what they last did stands in for a while rather than nothing: a restart
 * or a short split should not hand admission to the static fallback rates, which know nothing of
 * this fleet (on a small one they admit many times what it serves, and all of it waits for the
 * workers' return). Nothing is served meanwhile, so the backlog and the expected waits computed
 * on this estimate grow and shed the lowest tiers first, as a queue behind slow workers would.
 * The slots stay those of the last live workers so a job's service time stays what it was.
 */
function heldEstimate(
  lastLive: CapacityMemory['lastLive'],
  now: number,
  holdMs: number,
  reporting: number,
): CapacityEstimate | null {
  if (!lastLive || now - lastLive.at >= holdMs) return null;
  return { ...lastLive.estimate, workers: 0, reporting, utilisation: null, heldSince: lastLive.at };
}

function learnWorker(
  s: WorkerSignal,
  before: WorkerMemory | undefined,
  saturatedLanes: Set<string>,
  tuning: CapacityTuning,
  seedPerSlot: number | null,
): WorkerMemory {
  const use = s.slotsTotal > 0 ? s.slotsBusy / s.slotsTotal : 0;
  const fresh = { at: s.at, costFinished: s.costFinished, jobsFinished: s.jobsFinished };
  const newWindow = { ...fresh, busySlotMs: s.busySlotMs ?? null, useSum: 0, useCount: 0 };
  if (!before) {
    // A worker with no slots yet (still loading its models) is not seeded: it would count for 0.
    const seeded = seedPerSlot !== null && s.slotsTotal > 0 ? seedPerSlot * s.slotsTotal : null;
    return { ...fresh, window: newWindow, capacity: seeded };
  }
  if (s.at <= before.at) return before;
  // A restarted worker starts its counters again: start a new window.
  if (s.costFinished < before.window.costFinished)
    return { ...fresh, window: newWindow, capacity: before.capacity };
  const window = {
    ...before.window,
    useSum: before.window.useSum + use,
    useCount: before.window.useCount + 1,
  };
  const jobs = s.jobsFinished - window.jobsFinished;
  const span = s.at - window.at;
  if (jobs < tuning.sampleJobs && span < tuning.sampleWindow)
    return { ...fresh, window, capacity: before.capacity };
  const rate = ((s.costFinished - window.costFinished) * 1000) / span;
  const windowed = windowUse(s, window, span);
  const sample = capacitySample(
    rate,
    windowed,
    s.lanes.some((l) => saturatedLanes.has(l)),
    tuning.minUse,
  );
  if (sample === null) return { ...fresh, window: newWindow, capacity: before.capacity };
  const capacity =
    before.capacity === null ? sample : before.capacity + tuning.smoothing * (sample - before.capacity);
  return { ...fresh, window: newWindow, capacity };
}

interface WindowUse {
  mean: number;
  /** From the worker's cumulative busy time, not from snapshots. */
  exact: boolean;
}

/**
 * The worker's mean slot use over the window: exact from its cumulative busy time when it reports
 * one; otherwise the mean of the slotsBusy snapshots, which overstate a lightly loaded worker that
 * happens to be busy at report time (and so make the learned capacity ratchet down).
 */
function windowUse(s: WorkerSignal, window: WorkerMemory['window'], span: number): WindowUse {
  if (s.busySlotMs !== undefined && window.busySlotMs !== null && s.slotsTotal > 0 && span > 0) {
    const mean = Math.max(0, Math.min(1, (s.busySlotMs - window.busySlotMs) / (span * s.slotsTotal)));
    return { mean, exact: true };
  }
  return { mean: window.useSum / window.useCount, exact: false };
}

/**
 * Lanes whose backlog (jobs) could fill every slot of the workers serving them. A job or two
 * waiting is mostly in transit (being enqueued, fetched, or on another worker's partition) and
 * says nothing about whether this worker could have done more: taking it for saturation made
 * the controller learn its own admission as capacity, and probe up only a few % per sample.
 */
function lanesWithWorkForEverySlot(
  signals: WorkerSignal[],
  now: number,
  backlogByLane: Record<string, number>,
  maxAgeMs: number,
): Set<string> {
  const slots: Record<string, number> = {};
  for (const s of signals) {
    if (now - s.at > maxAgeMs) continue;
    for (const l of s.lanes) slots[l] = (slots[l] ?? 0) + s.slotsTotal;
  }
  const out = new Set<string>();
  for (const [lane, backlog] of Object.entries(backlogByLane)) {
    if (backlog > 0 && backlog >= (slots[lane] ?? 0)) out.add(lane);
  }
  return out;
}

/**
 * The finished rate scaled by how busy the worker was. Exact busy time needs nothing else: even
 * with work waiting, a worker idle part of the window (jobs in transit, a fetch stall) could have
 * done more, and taking its finished rate as capacity made the controller learn its own admission
 * (launch-day's free rollout learned 2.8–3.5 units/s against 4.6 real, and left the GPU idle).
 * Snapshots overstate use, so with them a worker that has work for every slot waiting is taken
 * as busy as it can be. An idle worker that finished nothing says nothing about its capacity.
 */
function capacitySample(rate: number, use: WindowUse, waiting: boolean, minUse: number): number | null {
  if (use.mean <= 0 && rate <= 0) return null;
  if (use.mean >= 1 || (waiting && !use.exact)) return rate;
  if (use.mean >= minUse) return rate / use.mean;
  return null;
}

/** A worker serving several lanes gives each a part in proportion to the lanes' policy shares. */
function splitAcrossLanes(
  capacity: number,
  lanes: string[],
  shares: Record<string, number>,
  byLane: Record<string, number>,
  sharedByLane: Record<string, number>,
) {
  const known = lanes.filter((l) => l in shares);
  const total = known.reduce((a, l) => a + shares[l], 0);
  for (const l of known) {
    const part = total > 0 ? (capacity * shares[l]) / total : capacity / known.length;
    byLane[l] += part;
    if (known.length > 1) sharedByLane[l] += part;
  }
}

/**
 * Lanes are bulkheads, but a lane that does not use its share of the shared workers lends the rest
 * to lanes that want more, in proportion to what they lack.
 */
export function lendUnusedShare(
  capacity: CapacityEstimate,
  demandByLane: Record<string, number | null>,
): Record<string, number> {
  const out = { ...capacity.byLane };
  let pool = 0;
  const wants: Record<string, number> = {};
  for (const [lane, cap] of Object.entries(capacity.byLane)) {
    const d = demandByLane[lane];
    if (d === null || d === undefined) continue;
    if (d < cap) {
      // The lender keeps half its unused share: traffic arriving there is not refused before the
      // next interval has noticed it.
      const lend = Math.min((cap - d) / 2, capacity.sharedByLane[lane] ?? 0);
      pool += lend;
      out[lane] -= lend;
    } else if (d > cap) wants[lane] = Math.min(d - cap, capacity.total);
  }
  const totalWant = Object.values(wants).reduce((a, b) => a + b, 0);
  if (totalWant <= 0) {
    for (const lane of Object.keys(capacity.byLane)) out[lane] = capacity.byLane[lane];
    return out;
  }
  const given = Math.min(pool, totalWant);
  for (const [lane, w] of Object.entries(wants)) out[lane] += (given * w) / totalWant;
  // What nobody wanted stays with its lane, so an idle bulkhead keeps its budget.
  const unlent = pool - given;
  if (unlent > 0) {
    for (const [lane, cap] of Object.entries(capacity.byLane)) {
      if (out[lane] < cap) out[lane] += (unlent * (cap - out[lane])) / Math.max(pool, 1e-9);
    }
  }
  return out;
}
