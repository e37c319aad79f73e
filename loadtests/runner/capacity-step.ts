import type { Campaign } from '../campaign-schema.ts';
import { quantile } from './recorder.ts';
import type { StatusSample } from './status-sampler.ts';

/**
 * How fast admission followed a step in capacity (DESIGN, "reaction"): around a campaign's
 * kill-workers fault that is undone within the run, the controller's capacity estimate (what
 * every tier's admitted rate is cut from) before the fault, late in it and late after it, and
 * the seconds it took to settle on each new level. The levels' ratio says how far it stepped:
 * about ½ when half the workers are killed.
 */
export interface CapacityStep {
  /** Median estimate (cost units/s) over the seconds before the fault. */
  before: number;
  /** Median over the second half of the fault. */
  during: number;
  /** Median over the second half of the time after the undo. */
  after: number;
  /** From the fault until the estimate stayed within the band around `during`; null = never. */
  dropSeconds: number | null;
  /** From the undo until it stayed within the band around `after`; null = never. */
  restoreSeconds: number | null;
}

/** How close to a level counts as settled on it. */
export const STEP_BAND = 0.2;
const BEFORE_MS = 5000;

export function capacityStep(status: StatusSample[], c: Campaign, runEndMs: number): CapacityStep | null {
  const fault = c.faults.find((f) => f.kind === 'kill-workers' && f.for !== undefined);
  if (!fault?.for) return null;
  const undoAt = fault.at + fault.for;
  if (undoAt >= runEndMs) return null;
  const known = status.filter((s): s is StatusSample & { capacity: number } => s.capacity !== null);
  const before = median(known, fault.at - BEFORE_MS, fault.at);
  const during = median(known, fault.at + fault.for / 2, undoAt);
  const after = median(known, undoAt + (runEndMs - undoAt) / 2, runEndMs);
  if (before === null || during === null || after === null) return null;
  return {
    before,
    during,
    after,
    dropSeconds: settledAfter(known, fault.at, undoAt, during),
    restoreSeconds: settledAfter(known, undoAt, runEndMs, after),
  };
}

function median(samples: { t: number; capacity: number }[], fromMs: number, toMs: number): number | null {
  const xs = samples
    .filter((s) => s.t >= fromMs && s.t < toMs)
    .map((s) => s.capacity)
    .sort((a, b) => a - b);
  return xs.length === 0 ? null : quantile(xs, 0.5);
}

/** Samples (one a second) a settled stretch spans at least: one lucky sample at the end is not settling. */
const SETTLED_SAMPLES = 3;

/** Seconds from `fromMs` to the first sample from which every later one in the window is in band. */
function settledAfter(
  samples: { t: number; capacity: number }[],
  fromMs: number,
  toMs: number,
  level: number,
): number | null {
  const window = samples.filter((s) => s.t >= fromMs && s.t < toMs);
  const inBand = (x: number) => Math.abs(x - level) <= STEP_BAND * level;
  let from = -1;
  for (let i = 0; i < window.length; i++) {
    if (!inBand(window[i].capacity)) from = -1;
    else if (from < 0) from = i;
  }
  if (from < 0 || window.length - from < SETTLED_SAMPLES) return null;
  return (window[from].t - fromMs) / 1000;
}

/** One line for the command line and the report. */
export function describeCapacityStep(s: CapacityStep): string {
  const took = (x: number | null) => (x === null ? 'never settled' : `settled in ${x.toFixed(1)} s`);
  return (
    `capacity estimate ${s.before.toFixed(2)} → ${s.during.toFixed(2)} units/s ` +
    `(${(s.during / s.before).toFixed(2)}×, ${took(s.dropSeconds)}), then ${s.after.toFixed(2)} ` +
    `(${(s.after / s.before).toFixed(2)}×, ${took(s.restoreSeconds)})`
  );
}
