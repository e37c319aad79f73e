import type {
  AdmissionState,
  GatewaySignal,
  QueueStats,
  SignalReport,
  WorkerSignal,
} from '../common/contracts/index.ts';
import type { ControlInputs } from './observation.ts';
import { laneTier } from './observation.ts';

/**
 * A deterministic simulated plant for the control code: workers with a fixed capacity, offered
 * load per lane × tier, gateways applying the published admission (global token bucket per
 * lane × tier), one queue per lane × tier served by strict priority within a lane, and workers
 * shared between lanes in proportion to the lanes' shares (work-conserving). Fluid model: work is
 * continuous, every job costs 1 unit. Time moves only when the caller calls `advance`, so unit
 * tests and the load-test simulator drive the real `controlStep` with no timers.
 */
export interface PlantWorker {
  id: string;
  lanes: string[];
  /** Cost units per second at full use. */
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
}

interface WorkerState extends PlantWorker {
  alive: boolean;
  costFinished: number;
  usedInPeriod: number;
  offeredInPeriod: number;
  report: WorkerSignal | null;
}

export interface PlantTotals {
  offered: number;
  admitted: number;
  shed: number;
  served: number;
}

export class SimulatedPlant {
  now: number;
  /** Offered load, cost units per second, by `lane/tier`. */
  readonly demand: Record<string, number> = {};
  /** Work waiting, cost units, by `lane/tier`. */
  readonly queue: Record<string, number> = {};
  readonly totals: Record<string, PlantTotals> = {};
  /** Dependency latencies the plant reports (ms), for saturation scenarios. */
  readonly latency = { store: 2, auth: 5, authErrorRate: 0, blob: 10, pass: 100 };
  private admission: AdmissionState | null = null;
  private readonly buckets: Record<string, number> = {};
  private readonly workers = new Map<string, WorkerState>();
  private gatewayReport: GatewaySignal | null = null;
  private sinceReport = 0;
  private readonly stepMs: number;
  private readonly reportEveryMs: number;
  private readonly signalTtlMs: number;

  constructor(private readonly opts: PlantOptions) {
    this.now = opts.start ?? 1_000_000;
    this.stepMs = opts.stepMs ?? 100;
    this.reportEveryMs = opts.reportEveryMs ?? 1000;
    this.signalTtlMs = opts.signalTtlMs ?? 10_000;
    for (const lane of Object.keys(opts.lanes)) {
      for (const tier of opts.tiers) {
        const k = laneTier(lane, tier);
        this.demand[k] = 0;
        this.queue[k] = 0;
        this.totals[k] = { offered: 0, admitted: 0, shed: 0, served: 0 };
      }
    }
    for (const w of opts.workers) this.addWorker(w);
  }

  addWorker(w: PlantWorker) {
    this.workers.set(w.id, {
      ...w,
      alive: true,
      costFinished: 0,
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

  /** Total capacity of the live workers, cost units per second. */
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
      if (w.report && this.now - w.report.at <= this.signalTtlMs) out.push(structuredClone(w.report));
    }
    if (this.gatewayReport) out.push(structuredClone(this.gatewayReport));
    return out;
  }

  queueStats(): QueueStats[] {
    return Object.entries(this.totals).map(([k, t]) => {
      const [lane, tier] = k.split('/');
      return { lane, tier, issued: Math.floor(t.admitted), served: Math.floor(t.served) };
    });
  }

  private arrive(dt: number) {
    for (const [k, rate] of Object.entries(this.demand)) {
      const offered = rate * dt;
      const admitted = this.admit(k, offered, dt);
      this.queue[k] += admitted;
      const t = this.totals[k];
      t.offered += offered;
      t.admitted += admitted;
      t.shed += offered - admitted;
    }
  }

  private admit(key: string, offered: number, dt: number): number {
    const [lane, tier] = key.split('/');
    const a = this.admission?.lanes[lane]?.[tier];
    if (!a) return offered;
    if (a.mode === 'shed') return 0;
    if (a.rate === null) return offered;
    const tokens = Math.min(Math.max(a.burst, a.rate * dt), (this.buckets[key] ?? a.burst) + a.rate * dt);
    const taken = Math.min(tokens, offered);
    this.buckets[key] = tokens - taken;
    return taken;
  }

  private serve(dt: number) {
    for (const w of this.workers.values()) {
      if (!w.alive) continue;
      const budget = w.capacity * dt;
      let left = budget;
      // Two rounds: lanes with work share the worker by policy share; what one cannot use goes to the others.
      for (let round = 0; round < 2 && left > 1e-12; round++) {
        const busy = w.lanes.filter((l) => this.laneBacklog(l) > 1e-12);
        const shareSum = busy.reduce((a, l) => a + (this.opts.lanes[l] ?? 0), 0);
        if (busy.length === 0 || shareSum <= 0) break;
        let used = 0;
        for (const l of busy) used += this.serveLane(l, (left * (this.opts.lanes[l] ?? 0)) / shareSum);
        left -= used;
      }
      w.usedInPeriod += budget - left;
      w.offeredInPeriod += budget;
      w.costFinished += budget - left;
    }
  }

  private laneBacklog(lane: string): number {
    return this.opts.tiers.reduce((a, t) => a + this.queue[laneTier(lane, t)], 0);
  }

  private serveLane(lane: string, amount: number): number {
    let left = amount;
    for (const tier of this.opts.tiers) {
      const k = laneTier(lane, tier);
      const take = Math.min(left, this.queue[k]);
      this.queue[k] -= take;
      this.totals[k].served += take;
      left -= take;
      if (left <= 0) break;
    }
    return amount - left;
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
        jobsStarted: Math.floor(w.costFinished),
        jobsFinished: Math.floor(w.costFinished),
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
