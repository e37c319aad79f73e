import { request } from 'undici';

/**
 * Samples the target's Prometheus /metrics during a run: how many worker slots are busy (the
 * "GPU" in use, whatever the admission mode, so the no-shedding baseline is measured the same
 * way), the gateway's event-loop lag and the target's CPU time. Slot use is an instantaneous
 * gauge, so it is read several times a second and averaged per second.
 */
export interface MetricsSample {
  t: number;
  slotsBusy: number | null;
  /** p99 and max of the event-loop delay since the previous scrape (prom-client resets it). */
  loopLagP99Ms: number | null;
  loopLagMaxMs: number | null;
  cpuSeconds: number | null;
}

/** Sums every series of a metric (all labels), or null when the target does not export it. */
export function metricSum(text: string, name: string): number | null {
  let found = false;
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isFinite(value)) continue;
    found = true;
    total += value;
  }
  return found ? total : null;
}

export function extractMetrics(text: string, t: number): MetricsSample {
  const ms = (v: number | null) => (v === null ? null : v * 1000);
  return {
    t,
    slotsBusy: metricSum(text, 'spillway_worker_slots_busy'),
    loopLagP99Ms: ms(metricSum(text, 'spillway_nodejs_eventloop_lag_p99_seconds')),
    loopLagMaxMs: ms(metricSum(text, 'spillway_nodejs_eventloop_lag_max_seconds')),
    cpuSeconds: metricSum(text, 'spillway_process_cpu_seconds_total'),
  };
}

export class MetricsSampler {
  readonly samples: MetricsSample[] = [];
  available = false;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly url: string,
    private readonly t0: number,
  ) {}

  start(periodMs = 250) {
    this.timer = setInterval(() => void this.sample(), periodMs);
    void this.sample();
  }

  async sample() {
    // A slow scrape is skipped, never stacked: the sampler must not add load to what it measures.
    if (this.busy) return;
    this.busy = true;
    try {
      const res = await request(this.url, { headersTimeout: 1000, bodyTimeout: 1000 });
      if (res.statusCode !== 200) return void (await res.body.dump());
      this.samples.push(extractMetrics(await res.body.text(), performance.now() - this.t0));
      this.available = true;
    } catch {
      // /metrics is optional on a URL target; the report then says n/a.
    } finally {
      this.busy = false;
    }
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
