import { DependencyError } from './errors.ts';

/** Which calls a latency applies to: the stores (jobs, events, coordination) or account look-ups. */
export type LatencyScope = 'store' | 'auth';

/**
 * The embedded stack's fault switches, thrown by the load-test runner's fault hooks: latency added
 * before store or account calls, and outages of what stands for Redis (job store, event log,
 * accounts, coordination) or for Kafka (the queue). The switched Infra (switched-infra.ts)
 * consults them on every call. Each switch returns its own undo; overlapping faults stack (the
 * largest latency holds, an outage lasts until its last one is undone), as on the distributed
 * stack's latency proxy.
 */
export class FaultSwitches {
  private readonly latency: Record<LatencyScope, Set<{ ms: number }>> = { store: new Set(), auth: new Set() };
  private redisOutages = 0;
  private queueOutages = 0;
  private readonly queueListeners = new Set<(down: boolean) => void>();

  slow(scope: LatencyScope, ms: number): () => void {
    const entry = { ms };
    this.latency[scope].add(entry);
    return () => {
      this.latency[scope].delete(entry);
    };
  }

  redisOutage(): () => void {
    this.redisOutages++;
    return once(() => {
      this.redisOutages--;
    });
  }

  queueOutage(): () => void {
    if (this.queueOutages++ === 0) this.tellQueue(true);
    return once(() => {
      if (--this.queueOutages === 0) this.tellQueue(false);
    });
  }

  queueDown(): boolean {
    return this.queueOutages > 0;
  }

  /** Called when the queue goes down or comes back; returns the unsubscribe. */
  onQueueChange(listener: (down: boolean) => void): () => void {
    this.queueListeners.add(listener);
    return () => {
      this.queueListeners.delete(listener);
    };
  }

  /**
   * What a store or account call waits for, or fails with, before it runs; undefined when no
   * switch is on, so the call goes straight through. During a Redis outage it fails at once, as
   * ioredis does with no offline queue (common/store/redis-client.ts); a delayed call that finds
   * Redis gone once its delay is over fails too.
   */
  before(scope: LatencyScope): Promise<void> | undefined {
    if (this.redisOutages > 0) return Promise.reject(redisDown());
    const ms = Math.max(0, ...[...this.latency[scope]].map((e) => e.ms));
    if (ms === 0) return undefined;
    return new Promise<void>((resolve, reject) =>
      setTimeout(() => (this.redisOutages > 0 ? reject(redisDown()) : resolve()), ms),
    );
  }

  private tellQueue(down: boolean): void {
    for (const listener of this.queueListeners) listener(down);
  }
}

function redisDown(): DependencyError {
  return new DependencyError('redis', 'unreachable (restart-redis fault injected by the load-test runner)');
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
