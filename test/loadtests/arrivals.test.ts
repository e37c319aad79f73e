import { describe, expect, it } from 'vitest';
import { parseCampaign } from '../../loadtests/campaign-schema.ts';
import { arrivals, classRatesAt, peakRates } from '../../loadtests/runner/arrivals.ts';
import { seededRandom } from '../../loadtests/runner/random.ts';

const campaign = parseCampaign({
  name: 't',
  seed: 3,
  mix: [
    { lane: 'chat', tier: 'pro', weight: 1 },
    { lane: 'chat', tier: 'free', weight: 3 },
  ],
  stages: [
    { name: 'ramp', duration: '10s', rate: 20, rampTo: 60 },
    { name: 'viral', duration: '10s', rate: 40, surge: [{ lane: 'chat', tier: 'free', factor: 10 }] },
  ],
});

describe('open-model arrivals', () => {
  it('splits the stage rate by weight, ramps linearly, and adds surges on top', () => {
    const start = classRatesAt(campaign, 0);
    expect(start.map((c) => c.rate)).toEqual([5, 15]);
    const mid = classRatesAt(campaign, 5000).reduce((s, c) => s + c.rate, 0);
    expect(mid).toBeCloseTo(40);
    const viral = classRatesAt(campaign, 15_000);
    expect(viral[0].rate).toBeCloseTo(10);
    expect(viral[1].rate).toBeCloseTo(300);
  });

  it('draws as many arrivals as the rates integrate to, in time order, reproducibly', () => {
    const a = [...arrivals(campaign, seededRandom(1))];
    const expected = 10 * 40 + 10 * (10 + 300);
    expect(a.length / expected).toBeGreaterThan(0.93);
    expect(a.length / expected).toBeLessThan(1.07);
    for (let i = 1; i < a.length; i++) expect(a[i].at).toBeGreaterThanOrEqual(a[i - 1].at);
    const b = [...arrivals(campaign, seededRandom(1))];
    expect(b.map((x) => x.at)).toEqual(a.map((x) => x.at));
  });

  it('finds each class peak for sizing the account pool', () => {
    const p = peakRates(campaign);
    expect(p.get('chat/free')!).toBeCloseTo(300, 0);
    expect(p.get('chat/pro')!).toBeGreaterThan(10);
  });
});
