import type { HookFault } from '../common/contracts/fault-hooks.ts';
import { SpillwayError } from '../common/errors.ts';
import { noteSeconds, workersFor } from '../common/fault-size.ts';
import type { FaultSwitches } from '../common/fault-switches.ts';
import type { WorkerFleet } from '../inference/worker-fleet.ts';

interface Applied {
  note: string;
  undo(): Promise<string>;
}

/**
 * Campaign faults applied inside the embedded stack, with the meaning the distributed stack gives
 * them (loadtests/runner/stack-faults.ts): its inference workers killed or added, and its stand-ins
 * for Redis and Kafka slowed or taken down through the fault switches. Each applied fault is kept
 * under a token until undone; close() undoes what is left, so the stack drains normally.
 */
export class EmbeddedFaultHooks {
  private readonly applied = new Map<string, Applied>();
  private serial = 0;

  constructor(
    private readonly switches: FaultSwitches,
    private readonly fleet: WorkerFleet,
  ) {}

  async apply(fault: HookFault): Promise<{ token: string; note: string }> {
    const applied = await this.start(fault);
    const token = `${fault.kind}-${++this.serial}`;
    this.applied.set(token, applied);
    return { token, note: applied.note };
  }

  /** Undoes an applied fault; returns what the undo did. */
  async undo(token: string): Promise<string> {
    const applied = this.applied.get(token);
    if (!applied)
      throw new SpillwayError('hook_unknown_token', `no applied fault ${token} (already undone?)`);
    this.applied.delete(token);
    return applied.undo();
  }

  async close(): Promise<void> {
    const left = [...this.applied.keys()].reverse();
    for (const token of left) await this.undo(token).catch(() => undefined);
  }

  private start(fault: HookFault): Promise<Applied> | Applied {
    switch (fault.kind) {
      case 'kill-workers':
        return this.killWorkers(fault.fraction);
      case 'add-workers':
        return this.addWorkers(fault.fraction);
      case 'slow-store':
        return switched(
          this.switches.slow('store', fault.latencyMs),
          `+${fault.latencyMs} ms before every job-store, event-log and coordination call of every service in the process (embedded: accounts are a store of their own, not slowed)`,
        );
      case 'slow-auth':
        return switched(
          this.switches.slow('auth', fault.latencyMs),
          `+${fault.latencyMs} ms before every account look-up (embedded: accounts are a store of their own, so only auth is slowed; distributed, one Redis link carries both)`,
        );
      case 'restart-redis':
        return switched(
          this.switches.redisOutage(),
          'Redis stand-in down: job-store, event-log, account and coordination calls fail at once (DependencyError, as ioredis without an offline queue), data kept; undo brings it back',
        );
      case 'restart-kafka':
        return switched(
          this.switches.queueOutage(),
          'Kafka stand-in down: publishes refused (queue_publish_failed), deliveries paused; undo brings it back and every consumer rejoins its group (unacked deliveries delivered again)',
        );
    }
  }

  private async killWorkers(fraction: number): Promise<Applied> {
    const killed = await this.fleet.kill(fraction);
    return {
      note: `killed ${killed.count} of ${killed.of} inference workers (one slot each): cut off from store and queue, running jobs abandoned with their leases; undo starts new ones`,
      undo: async () => {
        const ids = await this.fleet.restore(killed);
        return `started ${ids.length} new inference workers`;
      },
    };
  }

  private async addWorkers(fraction: number): Promise<Applied> {
    const n = workersFor(fraction, this.fleet.ids().length);
    const started = performance.now();
    const added = await this.fleet.add(n);
    return {
      note: `started ${n} more inference workers, one slot and one model thread each (ready after ${noteSeconds(performance.now() - started)}); undo stops them`,
      undo: async () => {
        await this.fleet.remove(added);
        return `stopped ${added.length} added inference workers`;
      },
    };
  }
}

function switched(end: () => void, note: string): Applied {
  return {
    note,
    undo: async () => {
      end();
      return 'undone';
    },
  };
}
