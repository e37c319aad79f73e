import type { Policy } from '../../common/policy/schema.ts';
import { laneTier, tiersByPriorityOf } from './lane-tier.ts';
import { WeightedHistogram } from './weighted-histogram.ts';

/**
 * The queues and GPUs of the simulated plant, as fluids: per lane × tier a FIFO of cohorts (jobs
 * admitted in the same tick), served each tick with the GPU capacity the workers have. Workers pull
 * like the inference consumers: each lane its share (unused share lent to lanes with work waiting),
 * inside a lane every waiting tier its minShare first, the rest by priority. A job past its
 * deadline is dropped when it reaches the head, before any GPU time is spent on it.
 */
interface Cohort {
  at: number;
  jobs: number;
  /** GPU time per job, in cost units (less than charged when browned out). */
  costPerJob: number;
  /** What admission charged per job: what a real worker reports as costFinished. */
  chargedPerJob: number;
}

class CohortQueue {
  private items: Cohort[] = [];
  private head = 0;
  jobs = 0;
  cost = 0;

  push(c: Cohort) {
    if (c.jobs <= 0) return;
    this.items.push(c);
    this.jobs += c.jobs;
    this.cost += c.jobs * c.costPerJob;
  }

  peek(): Cohort | undefined {
    return this.items[this.head];
  }

  take(jobs: number) {
    const c = this.items[this.head];
    const n = Math.min(jobs, c.jobs);
    c.jobs -= n;
    this.jobs -= n;
    this.cost -= n * c.costPerJob;
    if (c.jobs <= 1e-9) this.shift();
    return n;
  }

  private shift() {
    const c = this.items[this.head];
    this.jobs -= c.jobs;
    this.cost -= c.jobs * c.costPerJob;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.items.length === this.head) {
      this.jobs = 0;
      this.cost = 0;
    }
  }

  oldest(now: number): number {
    const c = this.peek();
    return c ? now - c.at : 0;
  }
}

export interface ServeResult {
  /** GPU time used, in cost units. */
  servedCost: number;
  /** Admission's price of the jobs started (costFinished of a real worker). */
  chargedCost: number;
  /** By lane/tier: jobs started and jobs dropped as expired this tick. */
  started: Record<string, number>;
  expired: Record<string, number>;
}

export class GpuQueues {
  private readonly queues = new Map<string, CohortQueue>();
  readonly waits = new Map<string, WeightedHistogram>();
  private readonly tiers: string[];
  private readonly lanes: string[];

  constructor(private readonly policy: Policy) {
    this.tiers = tiersByPriorityOf(policy);
    this.lanes = Object.keys(policy.lanes);
    for (const l of this.lanes)
      for (const t of this.tiers) this.queues.set(laneTier(l, t), new CohortQueue());
    for (const t of this.tiers) this.waits.set(t, new WeightedHistogram());
  }

  enqueue(lane: string, tier: string, at: number, jobs: number, costPerJob: number, chargedPerJob: number) {
    this.queues.get(laneTier(lane, tier))?.push({ at, jobs, costPerJob, chargedPerJob });
  }

  backlogJobs(key: string): number {
    return this.queues.get(key)?.jobs ?? 0;
  }

  backlogCost(lane?: string): number {
    let s = 0;
    for (const [k, q] of this.queues) if (!lane || k.startsWith(`${lane}/`)) s += q.cost;
    return s;
  }

  oldestMs(now: number): number {
    let m = 0;
    for (const q of this.queues.values()) m = Math.max(m, q.oldest(now));
    return m;
  }

  /** Serves one tick with `budget` cost units of GPU time; returns what was used. */
  serve(now: number, budget: number): ServeResult {
    const out: ServeResult = { servedCost: 0, chargedCost: 0, started: {}, expired: {} };
    for (const l of this.lanes) for (const t of this.tiers) this.dropExpired(l, t, now, out);
    const shares = this.lanes.map((l) => this.policy.lanes[l].share);
    const shareSum = shares.reduce((a, b) => a + b, 0) || 1;
    let lent = 0;
    const want: number[] = [];
    this.lanes.forEach((l, i) => {
      const own = (budget * shares[i]) / shareSum;
      const used = this.serveLane(l, own, now, out);
      lent += own - used;
      want.push(this.backlogCost(l));
    });
    const wanted = want.reduce((a, b) => a + b, 0);
    if (lent > 1e-9 && wanted > 1e-9) {
      this.lanes.forEach((l, i) => {
        if (want[i] > 0) this.serveLane(l, (lent * want[i]) / wanted, now, out);
      });
    }
    return out;
  }

  private dropExpired(lane: string, tier: string, now: number, out: ServeResult) {
    const key = laneTier(lane, tier);
    const q = this.queues.get(key)!;
    const maxWait = this.policy.tiers[tier].maxWait;
    for (let c = q.peek(); c && now - c.at > maxWait; c = q.peek()) {
      out.expired[key] = (out.expired[key] ?? 0) + q.take(c.jobs);
    }
  }

  private serveLane(lane: string, budget: number, now: number, out: ServeResult): number {
    let left = budget;
    for (const t of this.tiers) {
      if (left <= 0) break;
      left -= this.serveTier(lane, t, Math.min(left, budget * this.policy.tiers[t].minShare), now, out);
    }
    for (const t of this.tiers) {
      if (left <= 0) break;
      left -= this.serveTier(lane, t, left, now, out);
    }
    return budget - left;
  }

  private serveTier(lane: string, tier: string, budget: number, now: number, out: ServeResult): number {
    const key = laneTier(lane, tier);
    const q = this.queues.get(key)!;
    const hist = this.waits.get(tier)!;
    let used = 0;
    for (let c = q.peek(); c && used < budget - 1e-12; c = q.peek()) {
      const jobs = q.take(Math.min(c.jobs, (budget - used) / c.costPerJob));
      used += jobs * c.costPerJob;
      out.chargedCost += jobs * c.chargedPerJob;
      hist.record(now - c.at, jobs);
      out.started[key] = (out.started[key] ?? 0) + jobs;
    }
    out.servedCost += used;
    return used;
  }
}
