/**
 * What this gateway last learned of the admission buckets it was refused from, so that a refusal
 * it can already be sure of costs no Redis round trip.
 *
 * A refusal for `tokens` with `waitMs` says the bucket held at most `tokens − rate·(waitMs − 1)`
 * then (the store rounds the wait up). From there it can only have refilled at `rate` up to
 * `burst` — other gateways only take from it — so while that upper bound stays below what a
 * request needs, the store would refuse it too. In a launch spike nearly every request of the
 * shed tier is such a refusal; each used to wait on Redis (p99 5–10 ms under load on the shared
 * machine) to learn what the gateway knew.
 *
 * Only for buckets with no fallback (a paid tier that may borrow from lower tiers asks the store),
 * only at the rate and burst the bucket was learned at (the controller moves them every interval),
 * and for at most `maxAgeMs`. A request refused this way is not charged to its account's limit:
 * it never reached it.
 */
interface Known {
  level: number;
  at: number;
  rate: number;
  burst: number;
}

export class BucketShadow {
  private readonly known = new Map<string, Known>();

  constructor(private readonly maxAgeMs = 1000) {}

  refused(bucket: string, tokens: number, waitMs: number, rate: number, burst: number, now: number): void {
    if (!(rate > 0) || !Number.isFinite(waitMs)) return;
    const level = tokens - (rate * Math.max(0, waitMs - 1)) / 1000;
    this.known.set(bucket, { level, at: now, rate, burst });
  }

  /** Milliseconds until the bucket could hold `tokens`, when surely > 0 now; else null: ask the store. */
  wait(bucket: string, tokens: number, rate: number, burst: number, now: number): number | null {
    const k = this.known.get(bucket);
    if (!k) return null;
    if (now - k.at > this.maxAgeMs || now < k.at || k.rate !== rate || k.burst !== burst) {
      this.known.delete(bucket);
      return null;
    }
    const level = Math.min(burst, k.level + (rate * (now - k.at)) / 1000);
    if (level >= tokens) return null;
    return Math.ceil(((tokens - level) * 1000) / rate);
  }
}
