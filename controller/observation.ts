import type { QueueStats, SignalReport } from '../common/contracts/index.ts';

/** One lane × tier key, as gateways report counters: `lane/tier`. */
export function laneTier(lane: string, tier: string): string {
  return `${lane}/${tier}`;
}

/** Everything the controller reads in one interval; gathered by the service, or by a simulated plant. */
export interface ControlInputs {
  now: number;
  signals: SignalReport[];
  queue: QueueStats[];
  /** Round-trip latency of the job store measured by the controller itself; null when it failed. */
  storePingMs: number | null;
}

/** A saturation in [0, 1+] against its policy target; null = unknown (stale or missing), never "fine". */
export interface Saturation {
  value: number | null;
  /** The measured value and its target, in the signal's own unit, for the status page. */
  measured: number | null;
  target: number;
  unit: string;
  /** Age of the freshest contributing signal; null when there is none. */
  ageMs: number | null;
}

export type Dependency = 'gpu' | 'queue' | 'store' | 'auth' | 'blob';
