import * as hdr from 'hdr-histogram-js';

/**
 * Everything a run measures, bucketed by second and lane/tier. Latency of a request is taken from
 * its SCHEDULED send time, so a slow target cannot hide its delay by slowing the sender
 * (no coordinated omission); refusal latency is per attempt, send to response.
 */
export const COUNTERS = [
  'offered',
  'attempts',
  'admitted',
  'shed',
  'completed',
  'blocked',
  'failed',
  'gaveUp',
] as const;
export type Counter = (typeof COUNTERS)[number];
export type Counts = Record<Counter, number>;

export function zeroCounts(): Counts {
  return { offered: 0, attempts: 0, admitted: 0, shed: 0, completed: 0, blocked: 0, failed: 0, gaveUp: 0 };
}

export interface SecondBucket {
  second: number;
  byKey: Record<string, Counts>;
  /** Latencies (ms) of requests completed in this second, by tier. */
  latencies: Record<string, number[]>;
  inFlight: number;
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function histogram(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 36e8,
    numberOfSignificantValueDigits: 3,
  });
}

function histogramFor(map: Map<string, hdr.Histogram>, key: string): hdr.Histogram {
  const found = map.get(key);
  if (found) return found;
  const h = histogram();
  map.set(key, h);
  return h;
}

function percentiles(h: hdr.Histogram, divisor: number): Percentiles {
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0 };
  return {
    count: h.totalCount,
    p50: h.getValueAtPercentile(50) / divisor,
    p90: h.getValueAtPercentile(90) / divisor,
    p99: h.getValueAtPercentile(99) / divisor,
    max: h.maxValue / divisor,
  };
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export class Recorder {
  readonly buckets: SecondBucket[] = [];
  private readonly latency = new Map<string, hdr.Histogram>();
  private readonly refusal = new Map<string, hdr.Histogram>();
  readonly shedCodes: Record<string, Record<string, number>> = {};
  /** How each request ended, by lane/tier: `completed`, or why it did not (see request-flow.ts). */
  readonly endings: Record<string, Record<string, number>> = {};
  private inFlight = 0;

  constructor(private readonly tierOf: (key: string) => string = (k) => k.split('/')[1] ?? k) {}

  private bucket(tMs: number): SecondBucket {
    const s = Math.max(0, Math.floor(tMs / 1000));
    while (this.buckets.length <= s) {
      this.buckets.push({ second: this.buckets.length, byKey: {}, latencies: {}, inFlight: this.inFlight });
    }
    return this.buckets[s];
  }

  count(tMs: number, key: string, counter: Counter, n = 1) {
    const b = this.bucket(tMs);
    b.byKey[key] ??= zeroCounts();
    b.byKey[key][counter] += n;
  }

  /** A request (not an attempt) started waiting for its result. */
  enter(tMs: number) {
    this.inFlight++;
    const b = this.bucket(tMs);
    b.inFlight = Math.max(b.inFlight, this.inFlight);
  }

  leave(tMs: number) {
    this.inFlight--;
    this.bucket(tMs);
  }

  completed(tMs: number, key: string, latencyMs: number) {
    this.count(tMs, key, 'completed');
    const tier = this.tierOf(key);
    const b = this.bucket(tMs);
    if (!b.latencies[tier]) b.latencies[tier] = [];
    b.latencies[tier].push(latencyMs);
    histogramFor(this.latency, tier).recordValue(Math.max(1, Math.round(latencyMs * 1000)));
  }

  refused(tMs: number, key: string, responseMs: number, code: string) {
    this.count(tMs, key, 'shed');
    const tier = this.tierOf(key);
    histogramFor(this.refusal, tier).recordValue(Math.max(1, Math.round(responseMs * 1000)));
    if (!this.shedCodes[key]) this.shedCodes[key] = {};
    this.shedCodes[key][code] = (this.shedCodes[key][code] ?? 0) + 1;
  }

  ended(key: string, cause: string) {
    if (!this.endings[key]) this.endings[key] = {};
    this.endings[key][cause] = (this.endings[key][cause] ?? 0) + 1;
  }

  latencyByTier(): Record<string, Percentiles> {
    return Object.fromEntries([...this.latency].map(([k, h]) => [k, percentiles(h, 1000)]));
  }

  refusalByTier(): Record<string, Percentiles> {
    return Object.fromEntries([...this.refusal].map(([k, h]) => [k, percentiles(h, 1000)]));
  }

  refusalOverall(): Percentiles {
    const all = histogram();
    for (const h of this.refusal.values()) all.add(h);
    return percentiles(all, 1000);
  }

  totals(): Record<string, Counts> {
    const out: Record<string, Counts> = {};
    for (const b of this.buckets) {
      for (const [k, c] of Object.entries(b.byKey)) {
        if (!out[k]) out[k] = zeroCounts();
        for (const n of COUNTERS) out[k][n] += c[n];
      }
    }
    return out;
  }
}
