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
 * and for at most `maxAgeMs`; when the controller has moved the rate or burst since, the largest
 * heard is assumed. A request refused this way is not charged to its account's limit:
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
    const prev = this.live(bucket, now);
    this.known.set(bucket, {
      level,
      at: now,
      rate: Math.max(rate, prev?.rate ?? 0),
      burst: Math.max(burst, prev?.burst ?? 0),
    });
  }

  private live(bucket: string, now: number): Known | null {
    const k = this.known.get(bucket);
    if (!k) return null;
    if (now - k.at <= this.maxAgeMs && now >= k.at) return k;
    this.known.delete(bucket);
    return null;
  }

  /** Milliseconds until the bucket could hold `tokens`, when surely > 0 now; else null: ask the store. */
  wait(bucket: string, tokens: number, rate: number, burst: number, now: number): number | null {
    const k = this.live(bucket, now);
    if (!k) return null;
    // The controller moves rate and burst every interval, and each caller refills the bucket at
    // the rate it passes: the fastest and largest this gateway heard since keep the bound an upper
    // bound (gateways hear the same admission state within an interval of each other).
    k.rate = Math.max(rate, k.rate);
    k.burst = Math.max(burst, k.burst);
    const level = Math.min(k.burst, k.level + (k.rate * (now - k.at)) / 1000);
    if (level >= tokens) return null;
    return Math.ceil(((tokens - level) * 1000) / k.rate);
  }
}
