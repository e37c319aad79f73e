import type { KafkaBroker } from '../../common/dev-services/kafka-broker.ts';
import type { RedisServer } from '../../common/dev-services/redis-server.ts';
import { SpillwayError } from '../../common/errors.ts';
import { noteSeconds, workersFor } from '../../common/fault-size.ts';
import type { Fault, FaultKind } from '../campaign-schema.ts';
import type { InferenceFleet } from './inference-fleet.ts';
import type { LatencyProxy } from './latency-proxy.ts';
import type { AppliedFault, FaultInjector } from './target.ts';

/** What a distributed load-test stack exposes to faults. */
export interface StackParts {
  fleet: InferenceFleet;
  /**
   * Between the gateway and Redis: its job store and its account look-ups (auth). null when the
   * stack was started without one (see needsSlowableRedisLink).
   */
  gatewayRedisProxy: LatencyProxy | null;
  /** Servers the runner started and may restart; null when the caller gave their addresses. */
  redis: RedisServer | null;
  kafka: KafkaBroker | null;
}

/**
 * Whether a distributed stack for these faults needs the latency proxy on the gateway's Redis
 * link. Only the slow-* faults use it, and it is not free: every round trip the gateway makes
 * would cross the load generator's event loop, adding its stalls to the latency being measured.
 */
export function needsSlowableRedisLink(faults: readonly Pick<Fault, 'kind'>[]): boolean {
  return faults.some((f) => slowsRedisLink(f.kind));
}

/** The faults the gateway's Redis link carries: its job store and its account look-ups share it. */
function slowsRedisLink(kind: FaultKind): boolean {
  return kind === 'slow-store' || kind === 'slow-auth';
}

// The simulator's defaults for a fault that does not say (loadtests/simulator/simulate.ts).
export const DEFAULT_FRACTION = 0.5;
export const DEFAULT_LATENCY_MS = 200;

/**
 * Real faults on a distributed stack of child processes: inference processes killed (kill -9) and
 * brought back, or added and removed; Kafka or Redis stopped and started again on the same port
 * and data, so every client has to reconnect; latency added on the gateway's Redis link.
 */
export class StackFaults implements FaultInjector {
  /** Latency (ms per round trip) of each active slow-* fault; the link carries the largest. */
  private readonly slow = new Set<{ ms: number }>();

  constructor(private readonly s: StackParts) {}

  unsupported(kind: FaultKind): string | null {
    if (slowsRedisLink(kind) && !this.s.gatewayRedisProxy)
      return "the stack was started without a latency proxy on the gateway's Redis link";
    if (kind === 'slow-blob') return 'images are files in a shared local directory (no network hop to slow)';
    if (kind === 'restart-kafka' && !this.s.kafka)
      return 'Kafka was given (SPILLWAY_KAFKA_BROKERS), not started by the runner: not restarted';
    if (kind === 'restart-redis' && !this.s.redis)
      return 'Redis was given (SPILLWAY_REDIS_URL), not started by the runner: not restarted';
    return null;
  }

  async apply(f: Fault): Promise<AppliedFault> {
    switch (f.kind) {
      case 'kill-workers':
        return this.killWorkers(f.fraction ?? DEFAULT_FRACTION);
      case 'add-workers':
        return this.addWorkers(f.fraction ?? DEFAULT_FRACTION);
      case 'restart-kafka':
        return this.restart('Kafka', this.s.kafka!, f.for);
      case 'restart-redis':
        return this.restart('Redis', this.s.redis!, f.for);
      case 'slow-store':
      case 'slow-auth':
        return this.slowRedis(f.kind, f.latency ?? DEFAULT_LATENCY_MS);
      default:
        throw new SpillwayError('fault_unsupported', this.unsupported(f.kind) ?? f.kind);
    }
  }

  private async killWorkers(fraction: number): Promise<AppliedFault> {
    const live = this.s.fleet.live();
    if (live.length === 0) throw new SpillwayError('fault_failed', 'no live inference process to kill');
    // Whole processes: a fraction that rounds to none still kills one (it is the fault asked for).
    const n = workersFor(fraction, live.length);
    const victims = live.slice(-n);
    await this.s.fleet.kill(victims);
    return {
      note: `killed ${n} of ${live.length} inference processes (kill -9); undo starts them again`,
      undo: () => this.s.fleet.start(victims),
    };
  }

  private async addWorkers(fraction: number): Promise<AppliedFault> {
    const live = this.s.fleet.live().length;
    const n = workersFor(fraction, live);
    const started = performance.now();
    const added = await this.s.fleet.add(n);
    return {
      note: `started ${n} more inference processes (ready after ${noteSeconds(performance.now() - started)}); undo stops them`,
      undo: () => this.s.fleet.remove(added),
    };
  }

  /**
   * With `for`: down for that long, then started again; without: a restart at once. Either way
   * on the same port and data directory, so topics, offsets and records survive.
   */
  private async restart(
    name: string,
    server: RedisServer | KafkaBroker,
    downFor: number | undefined,
  ): Promise<AppliedFault> {
    const started = performance.now();
    if (downFor === undefined) {
      await server.restart();
      return {
        note: `${name} stopped and started again (${noteSeconds(performance.now() - started)})`,
        undo: async () => {},
      };
    }
    await server.stop();
    return {
      note: `${name} stopped (SIGTERM, ${noteSeconds(performance.now() - started)}); undo starts it again`,
      undo: () => server.start(),
    };
  }

  private async slowRedis(kind: 'slow-store' | 'slow-auth', ms: number): Promise<AppliedFault> {
    const entry = { ms };
    this.slow.add(entry);
    this.setDelay();
    const shared =
      kind === 'slow-auth'
        ? " (account look-ups and the job store share the gateway's one Redis link: both slowed)"
        : '';
    return {
      note: `+${ms} ms per round trip between the gateway and Redis${shared}`,
      undo: async () => {
        this.slow.delete(entry);
        this.setDelay();
      },
    };
  }

  private setDelay(): void {
    const worst = Math.max(0, ...[...this.slow].map((e) => e.ms));
    // Half each way: one request and its reply together take the fault's latency longer.
    this.s.gatewayRedisProxy?.setDelay(worst / 2);
  }
}
