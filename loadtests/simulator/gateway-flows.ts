import type { AdmissionState } from '../../common/contracts/index.ts';
import type { Policy } from '../../common/policy/schema.ts';
import { requiredTokens } from '../../common/token-bucket.ts';
import { decideAdmission } from '../../gateway/admission.ts';
import { borrowableBuckets } from '../../gateway/borrowable-buckets.ts';
import { jitteredHintMs } from '../../gateway/retry-hints.ts';
import type { ClientBehaviour, MixEntry } from '../campaign-schema.ts';
import { entryCost } from '../reference-request.ts';
import { laneTier } from './lane-tier.ts';

/**
 * The gateways' admission as flows: each tick, every group of requests of the same class and
 * retry count goes through the REAL per-request decision (gateway/admission.ts) once, and the
 * global token bucket of its lane × tier (refilled at the controller's rate, capped at its burst)
 * admits what its tokens cover. Refused clients come back like the openai SDK: after the hint
 * if within maxRetryAfter, else after the exponential backoff; some share never retries.
 */
export interface RequestGroup {
  entry: MixEntry;
  /** Requests (fractional: the simulator moves fluids). */
  count: number;
  retries: number;
  /** When the first attempt was made (for giving up). */
  firstAt: number;
}

export interface FlowTotals {
  offered: number;
  attempts: number;
  admitted: number;
  shed: number;
  refusedFinal: number;
  gaveUp: number;
  offeredCost: number;
  admittedCost: number;
  shedCost: number;
}

export function zeroFlows(): FlowTotals {
  return {
    offered: 0,
    attempts: 0,
    admitted: 0,
    shed: 0,
    refusedFinal: 0,
    gaveUp: 0,
    offeredCost: 0,
    admittedCost: 0,
    shedCost: 0,
  };
}

export interface Admitted {
  lane: string;
  tier: string;
  jobs: number;
  /** GPU time per job (browned-out jobs take less). */
  costPerJob: number;
  /** Admission's price per job. */
  chargedPerJob: number;
}

const MEAN_JITTER = 0.5;

export class GatewayFlows {
  readonly totals = new Map<string, FlowTotals>();
  /** Refused groups waiting to retry, by the tick they come back. */
  private readonly pending = new Map<number, RequestGroup[]>();
  private readonly buckets = new Map<string, number>();

  constructor(
    private readonly policy: Policy,
    private readonly client: ClientBehaviour,
    private readonly retryingShare: number,
    private readonly tickMs: number,
  ) {}

  /** What changed during the current step, by lane/tier (reset by beginStep). */
  readonly step = new Map<string, FlowTotals>();

  beginStep() {
    for (const f of this.step.values()) Object.assign(f, zeroFlows());
  }

  private bump(key: string, field: keyof FlowTotals, n: number) {
    let total = this.totals.get(key);
    if (!total) {
      total = zeroFlows();
      this.totals.set(key, total);
    }
    let step = this.step.get(key);
    if (!step) {
      step = zeroFlows();
      this.step.set(key, step);
    }
    total[field] += n;
    step[field] += n;
  }

  /** Retries due before tick `to`. */
  retriesDue(to: number): RequestGroup[] {
    const due: RequestGroup[] = [];
    for (const [t, list] of this.pending) {
      if (t >= to) continue;
      due.push(...list);
      this.pending.delete(t);
    }
    return due;
  }

  hasPendingRetries(): boolean {
    return this.pending.size > 0;
  }

  /** Admits what the state allows; returns the jobs to enqueue. Tick t covers [t·tick, (t+1)·tick). */
  admit(tick: number, now: number, groups: RequestGroup[], state: AdmissionState, dtMs: number): Admitted[] {
    const out: Admitted[] = [];
    const byKey = new Map<string, { g: RequestGroup; tokens: number; need: number; cost: number }[]>();
    for (const g of groups) {
      if (g.count <= 0) continue;
      const key = laneTier(g.entry.lane, g.entry.tier);
      const cost = entryCost(this.policy, g.entry);
      if (g.retries === 0) {
        this.bump(key, 'offered', g.count);
        this.bump(key, 'offeredCost', g.count * cost);
      }
      this.bump(key, 'attempts', g.count);
      const tierPolicy = this.policy.tiers[g.entry.tier];
      const decision = decideAdmission({
        operation: g.entry.operation,
        holdsConnection: g.entry.delivery !== 'async',
        allowAsync: g.entry.delivery === 'async',
        retry: g.retries > 0,
        cost,
        gateOpen: true,
        tier: state.lanes[g.entry.lane]?.[g.entry.tier] ?? null,
        syncWaitMs: tierPolicy?.syncWait ?? 0,
        retryHeadroom: this.policy.limits.retryHeadroom,
        random: MEAN_JITTER,
      });
      if (decision.kind === 'refuse') {
        this.refuse(tick, now, g, g.count, cost, decision.hintMs);
        continue;
      }
      if (decision.kind !== 'check-limits') continue;
      const list = byKey.get(key) ?? [];
      list.push({ g, tokens: decision.tokens, need: decision.need, cost });
      byKey.set(key, list);
    }
    const levels = this.refill(state, dtMs);
    // Higher tiers first: a paid class short of its own tokens borrows a lower tier's (lowest
    // first, as gateway/borrowable-buckets.ts orders them), which that tier then lacks.
    const order = [...byKey.keys()].sort((a, b) => this.priorityOf(b) - this.priorityOf(a));
    for (const key of order) {
      const list = byKey.get(key)!;
      const [lane, tier] = key.split('/');
      const ta = state.lanes[lane]?.[tier];
      const lenders =
        ta && ta.rate !== null
          ? borrowableBuckets(this.policy, lane, tier, (l, t) => state.lanes[l]?.[t] ?? null).map(
              (b) => b.bucket,
            )
          : [];
      // A bucket with too few tokens for everyone serves first attempts first: a retry is taken
      // only while the bucket holds policy limits.retryHeadroom times its cost (gateway/admission.ts), so
      // retries are the ones shed, and they may not draw a bucket below that headroom.
      list.sort((a, b) => a.g.retries - b.g.retries);
      const brownout = ta?.brownout;
      for (const { g, tokens, need, cost } of list) {
        const wanted = tokens * g.count;
        const burst = ta?.burst ?? 0;
        const reserve = requiredTokens(tokens, need, burst) - tokens;
        const share =
          ta && ta.rate !== null && wanted > 0
            ? this.take(levels, [key, ...lenders], wanted, reserve) / wanted
            : 1;
        const admitted = g.count * share;
        const jobCost = cost * this.brownoutFactor(brownout?.passes, brownout?.maxSize, g.entry.size);
        this.bump(key, 'admitted', admitted);
        this.bump(key, 'admittedCost', admitted * cost);
        out.push({ lane, tier, jobs: admitted, costPerJob: jobCost, chargedPerJob: cost });
        const refused = g.count - admitted;
        // Fluid round-off is not a refusal.
        if (refused > 1e-6 * Math.max(1, g.count)) {
          const rate = ta?.rate ?? 0;
          const hint = jitteredHintMs(rate > 0 ? (1000 * need) / rate : 60_000, MEAN_JITTER);
          this.refuse(tick, now, g, refused, cost, hint);
        }
      }
    }
    for (const [key, level] of levels) this.buckets.set(key, level);
    return out;
  }

  /** Every capped bucket's tokens for this step: what it held plus the step's refill, up to burst. */
  private refill(state: AdmissionState, dtMs: number): Map<string, number> {
    const levels = new Map<string, number>();
    for (const [lane, tiers] of Object.entries(state.lanes)) {
      for (const [tier, ta] of Object.entries(tiers)) {
        if (ta.rate === null) continue;
        const key = laneTier(lane, tier);
        const refill = (ta.rate * dtMs) / 1000;
        levels.set(key, Math.min(Math.max(ta.burst, refill), (this.buckets.get(key) ?? ta.burst) + refill));
      }
    }
    return levels;
  }

  /** Takes up to `wanted` tokens from the buckets in order; returns how many it got. */
  /** Takes up to `wanted` tokens from the buckets in order, leaving each at least `reserve`. */
  private take(levels: Map<string, number>, keys: string[], wanted: number, reserve = 0): number {
    let got = 0;
    for (const k of keys) {
      const n = Math.min(wanted - got, Math.max(0, (levels.get(k) ?? 0) - reserve));
      levels.set(k, (levels.get(k) ?? 0) - n);
      got += n;
      if (got >= wanted) break;
    }
    return got;
  }

  private priorityOf(key: string): number {
    return this.policy.tiers[key.split('/')[1]]?.priority ?? 0;
  }

  /** GPU time of a browned-out job relative to a full one: fewer passes, a smaller image. */
  private brownoutFactor(passes: number | undefined, maxSize: string | undefined, size: string): number {
    const full = this.policy.models.available.find((m) => m.name === this.policy.models.default)?.passes ?? 1;
    let f = passes ? Math.min(1, passes / full) : 1;
    if (maxSize) {
      const [w, h] = size.split('x').map(Number);
      const [mw, mh] = maxSize.split('x').map(Number);
      f *= Math.min(1, (mw * mh) / (w * h));
    }
    return f;
  }

  private refuse(
    tick: number,
    now: number,
    g: RequestGroup,
    count: number,
    cost: number,
    hintMs: number | null,
  ) {
    const key = laneTier(g.entry.lane, g.entry.tier);
    this.bump(key, 'shed', count);
    this.bump(key, 'shedCost', count * cost);
    const c = this.client;
    if (hintMs === null || g.retries >= c.maxRetries) {
      this.bump(key, 'refusedFinal', count);
      return;
    }
    const delay =
      hintMs > 0 && hintMs <= c.maxRetryAfter
        ? hintMs
        : Math.min(c.initialRetryDelay * 2 ** g.retries, c.maxRetryDelay) * 0.875;
    if (now + delay - g.firstAt > c.giveUpAfter) {
      this.bump(key, 'gaveUp', count);
      return;
    }
    const retrying = count * this.retryingShare;
    this.bump(key, 'refusedFinal', count - retrying);
    const at = tick + Math.max(1, Math.ceil(delay / this.tickMs));
    const list = this.pending.get(at) ?? [];
    list.push({ entry: g.entry, count: retrying, retries: g.retries + 1, firstAt: g.firstAt });
    this.pending.set(at, list);
  }
}
