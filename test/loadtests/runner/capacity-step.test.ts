import { describe, expect, it } from 'vitest';
import { parseCampaign } from '../../../loadtests/campaign-schema.ts';
import { capacityStep, describeCapacityStep } from '../../../loadtests/runner/capacity-step.ts';
import type { StatusSample } from '../../../loadtests/runner/status-sampler.ts';

const campaign = (faults: unknown[] = [{ at: '8s', kind: 'kill-workers', fraction: 0.5, for: '12s' }]) =>
  parseCampaign({
    name: 'step',
    mix: [{ lane: 'chat', tier: 'pro', weight: 1 }],
    stages: [{ name: 's', duration: '32s', rate: 1 }],
    faults,
  });

/** One status sample a second, at x.9 s as the sampler's land, with the estimate `at(second)`. */
const samples = (at: (second: number) => number | null): StatusSample[] =>
  Array.from({ length: 32 }, (_, s) => ({
    t: s * 1000 + 900,
    gpuUtilisation: 1,
    capacity: at(s),
    admission: {},
  }));

describe('capacityStep', () => {
  it('measures the levels around a kill-workers fault and how long the estimate took to settle on each', () => {
    // Fault at 8 s, undone at 20 s: the estimate halves in the sample at 10.9 s and recovers in
    // the one at 22.9 s.
    const step = capacityStep(
      samples((s) => (s < 10 ? 2.6 : s < 22 ? 1.3 : 2.7)),
      campaign(),
      32_000,
    )!;
    expect(step.before).toBeCloseTo(2.6);
    expect(step.during).toBeCloseTo(1.3);
    expect(step.after).toBeCloseTo(2.7);
    expect(step.dropSeconds).toBeCloseTo(2.9);
    expect(step.restoreSeconds).toBeCloseTo(2.9);
    expect(describeCapacityStep(step)).toMatch(/2\.60 → 1\.30 units\/s \(0\.50×, settled in 2\.9 s\)/);
  });

  it('counts settling from the last time the estimate left the band, and never when it does not stay', () => {
    const wobbly = capacityStep(
      samples((s) => (s < 10 ? 2.6 : s === 13 ? 2.5 : s < 22 ? 1.3 : s % 2 ? 2.7 : 0.5)),
      campaign(),
      32_000,
    )!;
    // Back out of the band at 13.9 s: settled from 14.9 s.
    expect(wobbly.dropSeconds).toBeCloseTo(6.9);
    // After the undo it alternates 2.7 / 0.5 to the end: no stretch of it stays in the band.
    expect(wobbly.restoreSeconds).toBeNull();
  });

  it('says nothing without a kill-workers fault undone within the run, or without estimates', () => {
    const flat = samples(() => 2.6);
    expect(capacityStep(flat, campaign([]), 32_000)).toBeNull();
    expect(
      capacityStep(flat, campaign([{ at: '8s', kind: 'kill-workers', fraction: 0.5 }]), 32_000),
    ).toBeNull();
    expect(capacityStep(flat, campaign([{ at: '8s', kind: 'kill-workers', for: '30s' }]), 32_000)).toBeNull();
    expect(
      capacityStep(
        samples(() => null),
        campaign(),
        32_000,
      ),
    ).toBeNull();
  });
});
