import { setTimeout as sleep } from 'node:timers/promises';
import type { HookFault } from '../../common/contracts/fault-hooks.ts';
import { SpillwayError } from '../../common/errors.ts';
import type { Fault, FaultKind } from '../campaign-schema.ts';
import type { FaultHookClient } from './fault-hook-client.ts';
import { DEFAULT_FRACTION, DEFAULT_LATENCY_MS } from './stack-faults.ts';
import type { AppliedFault, FaultInjector } from './target.ts';

/**
 * How long a restart without `for` keeps the stand-in down. The distributed stack stops and starts
 * a real server, down for as long as that takes; the embedded stack has no server, so it takes a
 * fixed, nominal second.
 */
export const RESTART_DOWN_MS = 1000;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Faults on the embedded stack, applied inside its process through the fault hooks (IPC): the
 * same campaign faults as on the distributed stack (stack-faults.ts), on one-slot inference
 * workers and on the in-memory stand-ins for Redis and Kafka. What differs is said in each note.
 */
export class EmbeddedFaults implements FaultInjector {
  constructor(
    private readonly hooks: FaultHookClient,
    private readonly restartDownMs = RESTART_DOWN_MS,
  ) {}

  unsupported(kind: FaultKind): string | null {
    if (kind === 'slow-blob') return 'images are files in a local directory (no network hop to slow)';
    return null;
  }

  async apply(f: Fault): Promise<AppliedFault> {
    const fault = hookFault(f);
    const applied = await this.hooks.request({ op: 'apply', fault });
    const token = applied.token;
    if (!token) throw new SpillwayError('fault_failed', `${f.kind}: the stack gave no undo token`);
    const undo = async () => {
      await this.hooks.request({ op: 'undo', token });
    };
    const restart = f.kind === 'restart-kafka' || f.kind === 'restart-redis';
    if (!restart || f.for !== undefined) return { note: applied.note, undo };
    await sleep(this.restartDownMs);
    await undo();
    return {
      note: `${applied.note}; restarted at once: up again after ${seconds(this.restartDownMs)}`,
      undo: async () => {},
    };
  }
}

/** The campaign's fault with the distributed stack's defaults filled in. */
function hookFault(f: Fault): HookFault {
  switch (f.kind) {
    case 'kill-workers':
    case 'add-workers':
      return { kind: f.kind, fraction: f.fraction ?? DEFAULT_FRACTION };
    case 'slow-store':
    case 'slow-auth':
      return { kind: f.kind, latencyMs: f.latency ?? DEFAULT_LATENCY_MS };
    case 'restart-kafka':
    case 'restart-redis':
      return { kind: f.kind };
    default:
      throw new SpillwayError('fault_unsupported', `${f.kind}: not applied by the embedded stack`);
  }
}
