import { describe, expect, it } from 'vitest';
import type { MetricsSample } from '../../../loadtests/runner/metrics-sampler.ts';
import { busyShare } from '../../../loadtests/runner/verdict.ts';

const sample = (t: number, slotBusySeconds: number | null): MetricsSample => ({
  t,
  slotsBusy: null,
  slotBusySeconds,
  loopLagP99Ms: null,
  loopLagMaxMs: null,
  cpuSeconds: null,
});

describe('GPU use from cumulative busy slot-seconds', () => {
  const always = () => true;

  it('is busy time over slot time, whatever happened between scrapes', () => {
    // 2 slots for 2 s: 3 slot-seconds busy = 75 %.
    const m = [sample(0, 10), sample(1000, 11.5), sample(2000, 13)];
    expect(busyShare(m, 2, always)).toBeCloseTo(0.75);
  });

  it('counts only intervals ending in the window, and skips a restarted worker', () => {
    const m = [sample(0, 0), sample(1000, 1), sample(2000, 0.2), sample(3000, 0.7), sample(4000, 1.7)];
    // The sum fell over 1000→2000 (a restart): skipped; 2000→3000 and 3000→4000 count; 0→1000
    // ends outside the window.
    expect(busyShare(m, 1, (t) => t >= 1500)).toBeCloseTo((0.5 + 1) / 2);
    expect(busyShare([sample(0, null), sample(1000, null)], 1, always)).toBeNull();
  });
});
