import { request } from 'undici';

/**
 * Samples the target's Prometheus /metrics during a run: how many worker slots are busy (the
 * "GPU" in use, whatever the admission mode, so the no-shedding baseline is measured the same
 * way), the gateway's event-loop lag and the target's CPU time. Slot use comes from the workers'
 * cumulative busy slot-seconds when they export it (exact), else from the instantaneous gauge,
 * read several times a second and averaged.
 */
export interface MetricsSample {
  t: number;
  slotsBusy: number | null;
  /** Cumulative slot-seconds busy, summed over the workers scraped. */
  slotBusySeconds: number | null;
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
    slotsBusy: metricSum(text, SLOTS_BUSY),
    slotBusySeconds: metricSum(text, SLOT_BUSY_SECONDS),
    loopLagP99Ms: ms(metricSum(text, LAG_P99)),
    loopLagMaxMs: ms(metricSum(text, LAG_MAX)),
    cpuSeconds: metricSum(text, CPU_SECONDS),
  };
}

const SLOTS_BUSY = 'spillway_worker_slots_busy';
const SLOT_BUSY_SECONDS = 'spillway_worker_slot_busy_seconds_total';
const LAG_P99 = 'spillway_nodejs_eventloop_lag_p99_seconds';
const LAG_MAX = 'spillway_nodejs_eventloop_lag_max_seconds';
const CPU_SECONDS = 'spillway_process_cpu_seconds_total';

/**
 * The families read, asked for by name (`name[]`): a whole scrape runs every collector on the
 * scraped event loop, 3–8 ms in an embedded stack, twice a second, with the refusals being timed
 * waiting behind it. The lag family comes first: its collector sets the p99 and max read here.
 * A target that ignores the parameter answers everything, which reads the same.
 */
const SAMPLED = [
  'spillway_nodejs_eventloop_lag_seconds',
  LAG_P99,
  LAG_MAX,
  CPU_SECONDS,
  SLOTS_BUSY,
  SLOT_BUSY_SECONDS,
];
const SAMPLED_QUERY = `?${SAMPLED.map((n) => `name[]=${encodeURIComponent(n)}`).join('&')}`;

const plus = (a: number | null, b: number | null) => (b === null ? a : (a ?? 0) + b);

export class MetricsSampler {
  readonly samples: MetricsSample[] = [];
  available = false;
  private timer: NodeJS.Timeout | null = null;
  private busy = false;
  private round = 0;

  /**
   * `urls()` is asked at each scrape (workers come and go under faults): the first is the
   * gateway's, whose loop lag and CPU are kept; busy slots are summed over every answer. When
   * workers answer at URLs of their own, the gateway is scraped only every `gatewayEvery`-th
   * round: a scrape runs prom-client's collectors on the gateway's event loop (1-3 ms with a
   * spike's hundreds of open sockets), time in which the refusals being timed wait.
   */
  constructor(
    private readonly urls: () => string[],
    private readonly t0: number,
    private readonly gatewayEvery = 4,
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
      const [gateway, ...workers] = this.urls();
      const withGateway = workers.length === 0 || this.round++ % this.gatewayEvery === 0;
      const [own, ...texts] = await Promise.all([
        withGateway ? scrape(gateway) : null,
        ...workers.map(scrape),
      ]);
      if (withGateway && own === null) return;
      const t = performance.now() - this.t0;
      const sample = own === null ? emptySample(t) : extractMetrics(own, t);
      for (const text of texts) {
        if (text === null) continue;
        sample.slotsBusy = plus(sample.slotsBusy, metricSum(text, SLOTS_BUSY));
        sample.slotBusySeconds = plus(sample.slotBusySeconds, metricSum(text, SLOT_BUSY_SECONDS));
      }
      this.samples.push(sample);
      this.available = true;
    } finally {
      this.busy = false;
    }
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

function emptySample(t: number): MetricsSample {
  return {
    t,
    slotsBusy: null,
    slotBusySeconds: null,
    loopLagP99Ms: null,
    loopLagMaxMs: null,
    cpuSeconds: null,
  };
}

/** One /metrics text, or null: /metrics is optional on a URL target (the report then says n/a). */
async function scrape(url: string): Promise<string | null> {
  try {
    const res = await request(`${url}${SAMPLED_QUERY}`, { headersTimeout: 1000, bodyTimeout: 1000 });
    if (res.statusCode !== 200) {
      await res.body.dump();
      return null;
    }
    return await res.body.text();
  } catch {
    return null;
  }
}
