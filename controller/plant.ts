import type {
  AdmissionState,
  GatewaySignal,
  QueueStats,
  SignalReport,
  TierAdmission,
  WorkerSignal,
} from '../common/contracts/index.ts';
import type { ControlInputs } from './observation.ts';
import { laneTier } from './observation.ts';
import { plainCopy } from '../common/plain-copy.ts';

/**
 * A deterministic simulated plant for the control code: workers with a fixed capacity, offered
 * load per lane × tier, gateways applying the published admission (global token bucket per
 * lane × tier), one FIFO queue per lane × tier served by strict priority within a lane, and
 * workers shared between lanes in proportion to the lanes' shares (work-conserving).
 *
 * Fluid model, with what makes the real plant hard to control: requests are generations or edits
 * at their policy costs (an edit costs 2), counted in cost units by gateways and workers alike;
 * brownout with fewer passes makes a job proportionally cheaper on the GPU while it still counts
 * its full cost, so the capacity the controller learns (cost units per second) moves with the
 * brownout level; a brownout step that turns edits off refuses them; and a job still queued past
 * its tier's maxWait expires without touching a GPU. Time moves only when the caller calls
 * `advance`, so unit tests and the load-test simulator drive the real `controlStep` with no timers.
 */
export interface PlantWorker {
  id: string;
  lanes: string[];
  /** GPU work per second at full use, in cost units of full-quality jobs. */
  capacity: number;
  slots: number;
}

export interface PlantOptions {
  lanes: Record<string, number>;
  /** Tiers, highest priority first. */
  tiers: string[];
  workers: PlantWorker[];
  start?: number;
  stepMs?: number;
  reportEveryMs?: number;
  /** How long a report stays readable after it was made, as a coordination store's TTL would. */
  signalTtlMs?: number;
  /** Cost units per operation (policy `operations`); generation 1 and edit 2 when absent. */
  costs?: { generate: number; edit: number };
  /** Share of requests that are edits, by tier (0 when absent). */
  editShare?: Record<string, number>;
  /** Decode passes of a full-quality job; brownout `passes` is measured against it. */
  passes?: number;
  /** Longest a job may wait by tier (policy maxWait), ms; it expires past it. Never when absent. */
  maxWaitMs?: Record<string, number>;
}

interface WorkerState extends PlantWorker {
  alive: boolean;
  costFinished: number;
  jobsFinished: number;
  usedInPeriod: number;
  offeredInPeriod: number;
  report: WorkerSignal | null;
}

/** Jobs admitted in one step of one lane × tier: they wait, run and expire together. */
interface Cohort {
  at: number;
  jobs: number;
  /** Cost units, as counted by gateways and workers. */
  cost: number;
  /** GPU work: cost scaled by the passes brownout left. */
  work: number;
}

export interface PlantTotals {
  /** Cost units. */
  offered: number;
  admitted: number;
  shed: number;
  served: number;
  expired: number;
  /** Jobs. */
  jobsAdmitted: number;
  jobsServed: number;
  jobsExpired: number;
  /** GPU work spent on this lane × tier. */
  work: number;
  /** Longest wait of any job served, ms. */
  maxServedWaitMs: number;
}

const EPS = 1e-12;

export class SimulatedPlant {
  now: number;
  /** Offered load, cost units per second, by `lane/tier`. */
  readonly demand: Record<string, number> = {};
  /** Cost units waiting, by `lane/tier`. */
  readonly queue: Record<string, number> = {};
  readonly totals: Record<string, PlantTotals> = {};
  /** Dependency latencies the plant reports (ms), for saturation scenarios. */
  readonly latency = { store: 2, auth: 5, authErrorRate: 0, blob: 10, pass: 100 };
  /** GPU work the live workers could have done and did, since start. */
  readonly gpu = { offered: 0, used: 0 };
  private admission: AdmissionState | null = null;
  private readonly buckets: Record<string, number> = {};
  private readonly cohorts: Record<string, Cohort[]> = {};
  private readonly workers = new Map<string, WorkerState>();
  private gatewayReport: GatewaySignal | null = null;
  private sinceReport = 0;
  private readonly stepMs: number;
  private readonly reportEveryMs: number;
  private readonly signalTtlMs: number;
  private readonly costs: { generate: number; edit: number };
  private readonly passes: number;

  constructor(private readonly opts: PlantOptions) {
    this.now = opts.start ?? 1_000_000;
    this.stepMs = opts.stepMs ?? 100;
    this.reportEveryMs = opts.reportEveryMs ?? 1000;
    this.signalTtlMs = opts.signalTtlMs ?? 10_000;
    this.costs = opts.costs ?? { generate: 1, edit: 2 };
    this.passes = opts.passes ?? 4;
    for (const lane of Object.keys(opts.lanes)) {
      for (const tier of opts.tiers) {
        const k = laneTier(lane, tier);
        this.demand[k] = 0;
        this.queue[k] = 0;
        this.cohorts[k] = [];
        this.totals[k] = {
          offered: 0,
          admitted: 0,
          shed: 0,
          served: 0,
          expired: 0,
          jobsAdmitted: 0,
          jobsServed: 0,
          jobsExpired: 0,
          work: 0,
          maxServedWaitMs: 0,
        };
      }
    }
    for (const w of opts.workers) this.addWorker(w);
  }

  addWorker(w: PlantWorker) {
    this.workers.set(w.id, {
      ...w,
      alive: true,
      costFinished: 0,
      jobsFinished: 0,
      usedInPeriod: 0,
      offeredInPeriod: 0,
      report: null,
    });
  }

  /** Kills a worker: it stops serving and reporting; its last report stays readable until its TTL. */
  killWorker(id: string) {
    const w = this.workers.get(id);
    if (w) w.alive = false;
  }

  setWorkerCapacity(id: string, capacity: number) {
    const w = this.workers.get(id);
    if (w) w.capacity = capacity;
  }

  /** GPU work per second of the live workers (cost units of full-quality jobs). */
  capacity(): number {
    let c = 0;
    for (const w of this.workers.values()) if (w.alive) c += w.capacity;
    return c;
  }

  apply(state: AdmissionState) {
    this.admission = state;
  }

  advance(ms: number) {
    for (let left = ms; left > 0; left -= this.stepMs) {
      const dt = Math.min(this.stepMs, left);
      this.now += dt;
      this.expire();
      this.arrive(dt / 1000);
      this.serve(dt / 1000);
      this.sinceReport += dt;
      if (this.sinceReport >= this.reportEveryMs) {
        this.report();
        this.sinceReport = 0;
      }
    }
  }

  inputs(): ControlInputs {
    return {
      now: this.now,
      signals: this.signals(),
      queue: this.queueStats(),
      storePingMs: this.latency.store,
    };
  }

  signals(): SignalReport[] {
    const out: SignalReport[] = [];
    for (const w of this.workers.values()) {
      if (w.report && this.now - w.report.at <= this.signalTtlMs) out.push(plainCopy(w.report));
    }
    if (this.gatewayReport) out.push(plainCopy(this.gatewayReport));
    return out;
  }

  /** Tickets issued and passed (served or expired: a ticket behind them is being claimed). */
  queueStats(): QueueStats[] {
    return Object.entries(this.totals).map(([k, t]) => {
      const [lane, tier] = k.split('/');
      return {
        lane,
        tier,
        issued: Math.floor(t.jobsAdmitted),
        served: Math.floor(t.jobsServed + t.jobsExpired),
      };
    });
  }

  /** Mean cost of one request of a tier, from the operation mix. */
  private meanCost(tier: string): number {
    const edit = this.opts.editShare?.[tier] ?? 0;
    return (1 - edit) * this.costs.generate + edit * this.costs.edit;
  }

  private arrive(dt: number) {
    for (const [k, rate] of Object.entries(this.demand)) {
      const tier = k.split('/')[1];
      const offered = rate * dt;
      const a = this.tierAdmission(k);
      // Offered cost splits into generations and edits by the request mix.
      const edit = this.opts.editShare?.[tier] ?? 0;
      const editCost = (offered * edit * this.costs.edit) / this.meanCost(tier);
      const admissible = a && !a.edits ? offered - editCost : offered;
      const admitted = this.admit(k, a, admissible, dt);
      const t = this.totals[k];
      t.offered += offered;
      t.admitted += admitted;
      t.shed += offered - admitted;
      if (admitted <= EPS) continue;
      // The bucket takes generations and edits alike; edits refused by brownout took none.
      const editsIn = a && !a.edits ? 0 : editCost;
      const admittedEditCost = admissible > 0 ? (admitted * editsIn) / admissible : 0;
      const jobs = admittedEditCost / this.costs.edit + (admitted - admittedEditCost) / this.costs.generate;
      const passes = a?.brownout.passes;
      const work = admitted * (passes === undefined ? 1 : Math.min(1, passes / this.passes));
      this.cohorts[k].push({ at: this.now, jobs, cost: admitted, work });
      this.queue[k] += admitted;
      t.jobsAdmitted += jobs;
    }
  }

  private tierAdmission(key: string): TierAdmission | null {
    const [lane, tier] = key.split('/');
    return this.admission?.lanes[lane]?.[tier] ?? null;
  }

  private admit(key: string, a: TierAdmission | null, offered: number, dt: number): number {
    if (!a) return offered;
    if (a.mode === 'shed') return 0;
    if (a.rate === null) return offered;
    const tokens = Math.min(Math.max(a.burst, a.rate * dt), (this.buckets[key] ?? a.burst) + a.rate * dt);
    const taken = Math.min(tokens, offered);
    this.buckets[key] = tokens - taken;
    return taken;
  }

  /** Jobs past their tier's maxWait leave the queue unserved: no GPU is spent on a dead request. */
  private expire() {
    const maxWait = this.opts.maxWaitMs;
    if (!maxWait) return;
    for (const [k, queue] of Object.entries(this.cohorts)) {
      const limit = maxWait[k.split('/')[1]];
      if (limit === undefined) continue;
      const t = this.totals[k];
      while (queue.length && this.now - queue[0].at > limit) {
        const c = queue.shift()!;
        t.expired += c.cost;
        t.jobsExpired += c.jobs;
        this.queue[k] -= c.cost;
      }
    }
  }

  private serve(dt: number) {
    for (const w of this.workers.values()) {
      if (!w.alive) continue;
      const budget = w.capacity * dt;
      let left = budget;
      let cost = 0;
      let jobs = 0;
      // Two rounds: lanes with work share the worker by policy share; what one cannot use goes to the others.
      for (let round = 0; round < 2 && left > EPS; round++) {
        const busy = w.lanes.filter((l) => this.laneBacklog(l) > EPS);
        const shareSum = busy.reduce((a, l) => a + (this.opts.lanes[l] ?? 0), 0);
        if (busy.length === 0 || shareSum <= 0) break;
        let used = 0;
        for (const l of busy) {
          const out = this.serveLane(l, (left * (this.opts.lanes[l] ?? 0)) / shareSum);
          used += out.work;
          cost += out.cost;
          jobs += out.jobs;
        }
        left -= used;
      }
      w.usedInPeriod += budget - left;
      w.offeredInPeriod += budget;
      w.costFinished += cost;
      w.jobsFinished += jobs;
      this.gpu.offered += budget;
      this.gpu.used += budget - left;
    }
  }

  private laneBacklog(lane: string): number {
    return this.opts.tiers.reduce((a, t) => a + this.queue[laneTier(lane, t)], 0);
  }

  /** Spends up to `amount` GPU work on one lane, highest tier first, oldest jobs first. */
  private serveLane(lane: string, amount: number): { work: number; cost: number; jobs: number } {
    let left = amount;
    let cost = 0;
    let jobs = 0;
    for (const tier of this.opts.tiers) {
      const k = laneTier(lane, tier);
      const queue = this.cohorts[k];
      const t = this.totals[k];
      while (left > EPS && queue.length) {
        const c = queue[0];
        const part = c.work <= left ? 1 : left / c.work;
        const done = { work: c.work * part, cost: c.cost * part, jobs: c.jobs * part };
        left -= done.work;
        cost += done.cost;
        jobs += done.jobs;
        t.served += done.cost;
        t.jobsServed += done.jobs;
        t.work += done.work;
        t.maxServedWaitMs = Math.max(t.maxServedWaitMs, this.now - c.at);
        this.queue[k] -= done.cost;
        if (part === 1) queue.shift();
        else {
          c.work -= done.work;
          c.cost -= done.cost;
          c.jobs -= done.jobs;
        }
      }
      if (this.queue[k] < EPS && !queue.length) this.queue[k] = 0;
      if (left <= EPS) break;
    }
    return { work: amount - left, cost, jobs };
  }

  private report() {
    for (const w of this.workers.values()) {
      if (!w.alive) continue;
      const use = w.offeredInPeriod > 0 ? w.usedInPeriod / w.offeredInPeriod : 0;
      w.report = {
        source: 'worker',
        id: w.id,
        at: this.now,
        lanes: w.lanes,
        slotsBusy: Math.round(use * w.slots),
        slotsTotal: w.slots,
        passLatencyEwmaMs: this.latency.pass,
        passLatencyP95Ms: this.latency.pass,
        baselinePassMs: 100,
        jobsStarted: Math.floor(w.jobsFinished),
        jobsFinished: Math.floor(w.jobsFinished),
        jobsAborted: 0,
        costFinished: w.costFinished,
        oldestJobAgeMs: 0,
        blobWriteMs: this.latency.blob,
        storeLatencyMs: this.latency.store,
      };
      w.usedInPeriod = 0;
      w.offeredInPeriod = 0;
    }
    const counters = (pick: (t: PlantTotals) => number) =>
      Object.fromEntries(Object.entries(this.totals).map(([k, t]) => [k, pick(t)]));
    this.gatewayReport = {
      source: 'gateway',
      id: 'plant-gateway',
      at: this.now,
      authLatencyMs: this.latency.auth,
      authErrorRate: this.latency.authErrorRate,
      authCacheHitRate: 0.9,
      storeLatencyMs: this.latency.store,
      offered: counters((t) => t.offered),
      admitted: counters((t) => t.admitted),
      shed: counters((t) => t.shed),
      signups: 0,
    };
  }
}
