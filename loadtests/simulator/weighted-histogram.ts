/**
 * A histogram of fractional counts: the simulator moves fluid amounts of requests, so a cohort of
 * 12.7 jobs that waited 40 s is recorded as such. Log buckets 2 % wide from 1 ms to ~30 days.
 */
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(30 * 86_400_000) / LOG_GROWTH) + 1;

export class WeightedHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  total = 0;
  max = 0;

  record(valueMs: number, weight: number) {
    if (weight <= 0) return;
    const i = valueMs <= 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(valueMs) / LOG_GROWTH));
    this.counts[i] += weight;
    this.total += weight;
    if (valueMs > this.max) this.max = valueMs;
  }

  /** Upper edge of the bucket holding quantile q (0..1); 0 when empty. */
  quantile(q: number): number {
    if (this.total <= 0) return 0;
    const want = q * this.total;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= want && this.counts[i] > 0) return Math.min(this.max, i === 0 ? 1 : GROWTH ** i);
    }
    return this.max;
  }

  mean(): number {
    if (this.total <= 0) return 0;
    let s = 0;
    for (let i = 0; i < BUCKETS; i++) s += this.counts[i] * (i === 0 ? 1 : GROWTH ** i);
    return s / this.total;
  }
}
