import { describe, expect, it } from 'vitest';
import { loadPolicyDir } from '../../common/policy/loader.ts';
import { loadCampaign, parseCampaign } from '../../loadtests/campaign-schema.ts';
import { simulateCampaign } from '../../loadtests/simulator/simulate.ts';

const policy = await loadPolicyDir('policies');

describe('launch-week simulator', () => {
  it('replays the full week at full scale with the real controller in under a minute of CPU', async () => {
    const c = await loadCampaign('launch-week');
    const r = simulateCampaign(c, policy, { controller: 'on' });
    // CPU time, not wall time: the machine is shared, what is asserted is the simulator's cost.
    expect(r.cpuMs).toBeLessThan(60_000);
    expect(r.simulatedMs).toBe(7 * 86_400_000);
    const offered = Object.values(r.tiers).reduce((s, t) => s + t.offered, 0);
    expect(offered / 700e6).toBeGreaterThan(0.95);
    expect(offered / 700e6).toBeLessThan(1.05);
    // Paid tiers ride through the free rollout, the viral lane and the faults.
    expect(r.paidAvailability!).toBeGreaterThan(0.99);
    expect(r.tiers.free.availability!).toBeLessThan(r.paidAvailability!);
    expect(r.series.x.length).toBeGreaterThan(100);
  }, 180_000);
});

describe('simulated overload', () => {
  const spike = parseCampaign({
    name: 'spike',
    rateUnit: 'capacity',
    mix: [
      { lane: 'chat', tier: 'pro', weight: 1 },
      { lane: 'chat', tier: 'plus', weight: 2 },
      { lane: 'chat', tier: 'free', weight: 6 },
    ],
    stages: [
      { name: 'warm', duration: '10m', rate: 0.5 },
      { name: 'storm', duration: '10m', rate: 3 },
      { name: 'after', duration: '20m', rate: 0.5 },
    ],
    faults: [{ at: '10m', kind: 'kill-workers', fraction: 0.5, for: '10m' }],
    simulation: { capacity: 500, workers: 4, gateways: 2, passMs: 1000 },
  });

  it('comes back to normal within 60 s of the trigger with SDK-retrying clients (no metastable state)', () => {
    const r = simulateCampaign(spike, policy, { controller: 'on' });
    expect(r.recoverySeconds).not.toBeNull();
    expect(r.recoverySeconds!).toBeLessThanOrEqual(60);
  });

  it('keeps paid work ahead of free under 2× demand, unlike the static limiter', () => {
    // Paid demand (a third of 2×) fits the capacity; free demand does not.
    const overload = {
      ...spike,
      faults: [],
      stages: spike.stages.map((s) => (s.name === 'storm' ? { ...s, rate: 2 } : s)),
    };
    const on = simulateCampaign(overload, policy, { controller: 'on' });
    const fixed = simulateCampaign(overload, policy, { controller: 'static' });
    expect(on.paidAvailability!).toBeGreaterThan(0.99);
    expect(on.paidRefusedWhileFreeAdmittedTicks / on.ticks).toBeLessThan(0.01);
    expect(on.paidAvailability! / fixed.paidAvailability!).toBeGreaterThan(1.5);
  });
});

describe('simulated workers report as real ones do', () => {
  // The controller learns capacity from what workers report. Real workers report cumulative
  // slot-busy time and the admitted price of what they finish (inference/signals.ts); simulated
  // ones once sent only busy-slot snapshots (rounded up) and the browned-out GPU time, and the
  // controller learned 80–90 % of the true capacity, leaving the simulated GPUs idle.
  it('lets the controller learn the full capacity, and more under brownout', async () => {
    const c = await loadCampaign('launch-day');
    const capacity = 4.8;
    const r = simulateCampaign(
      {
        ...c,
        simulation: { capacity, workers: 1, gateways: 1, passMs: 1000 / capacity, retryingClients: 1 },
      },
      policy,
      { controller: 'on' },
    );
    const learned = r.series.estimatedCapacity.filter((x): x is number => x !== null && x > 0);
    // Before any brownout (paid only, then the start of the free rollout): the true capacity.
    expect(learned[3] / capacity).toBeGreaterThan(0.97);
    expect(learned[3] / capacity).toBeLessThan(1.03);
    // Browned-out jobs cost the GPU less than admission charged: the learned capacity rises.
    expect(Math.max(...learned) / capacity).toBeGreaterThan(1.1);
  });
});

describe('simulated gateways shed retries before first attempts', () => {
  // A token bucket short of tokens refuses retries first (they need policy limits.retryHeadroom × cost).
  // Sharing the shortfall evenly instead let the retries of a cold start crowd out first
  // attempts for good: free availability 77 % at 0.8× capacity, a metastable state the real
  // gateway does not have.
  it('serves steady demand under capacity without a lasting retry loop', async () => {
    const c = await loadCampaign('steady', { durationMs: 120_000 });
    const r = simulateCampaign(c, policy, { controller: 'on' });
    expect(r.tiers.free.availability!).toBeGreaterThan(0.95);
    expect(r.paidAvailability!).toBeGreaterThan(0.99);
  });
});
