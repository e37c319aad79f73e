import { Pool } from 'undici';

/** One health check: when it was sent (ms since the run's t0) and how long its answer took. */
export interface FloorSample {
  t: number;
  ms: number;
}

/**
 * The cheapest answer the target gives (`GET /healthz`: no auth, no store, no queue), sent on a
 * clock all through the run and timed like a refusal (send to response, same process, same
 * cores). It is the latency floor of this machine under this load: a refusal's tail above it is
 * what refusing costs; the rest is the two shared cores scheduling the gateway and the generator,
 * which no gateway change removes. Sends never wait for earlier ones (no coordinated omission).
 */
export class FloorProbe {
  readonly samples: FloorSample[] = [];
  private readonly pool: Pool;
  private timer: NodeJS.Timeout | null = null;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    baseUrl: string,
    private readonly t0: number,
    private readonly path = '/healthz',
  ) {
    this.pool = new Pool(baseUrl, { connections: 8, pipelining: 1, keepAliveTimeout: 30_000 });
  }

  start(periodMs = 50): void {
    this.timer = setInterval(() => this.send(), periodMs);
  }

  private send(): void {
    const p = this.once();
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async once(): Promise<void> {
    const sent = performance.now();
    try {
      const res = await this.pool.request({ path: this.path, method: 'GET', headersTimeout: 5000 });
      await res.body.dump();
      if (res.statusCode === 200) this.samples.push({ t: sent - this.t0, ms: performance.now() - sent });
    } catch {
      // A target without /healthz, or one that is down, has no floor to compare with.
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.pending]);
    await this.pool.close();
  }
}
