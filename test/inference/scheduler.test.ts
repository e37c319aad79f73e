import { describe, expect, it } from 'vitest';
import { chooseTier, initialSchedulerState, type TierWeight, tierShares } from '../../inference/scheduler.ts';

const TIERS: TierWeight[] = [
  { tier: 'pro', priority: 30, weight: 8, minShare: 0.3 },
  { tier: 'plus', priority: 20, weight: 4, minShare: 0.15 },
  { tier: 'free', priority: 10, weight: 1, minShare: 0.05 },
];

function pulls(tiers: TierWeight[], waiting: string[], n: number): Record<string, number> {
  let state = initialSchedulerState();
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const c = chooseTier(tiers, new Set(waiting), state);
    state = c.state;
    if (c.tier) counts[c.tier] = (counts[c.tier] ?? 0) + 1;
  }
  return counts;
}

describe('scheduler', () => {
  it('pulls tiers in proportion to weight when all wait: paid first, free not starved', () => {
    const c = pulls(TIERS, ['pro', 'plus', 'free'], 1300);
    expect(c.pro).toBeGreaterThan(c.plus);
    expect(c.plus).toBeGreaterThan(c.free);
    expect(Math.abs(c.pro - 800)).toBeLessThanOrEqual(2);
    expect(Math.abs(c.free - 100)).toBeLessThanOrEqual(2);
  });

  it('raises a tier to its minShare', () => {
    const tiers = TIERS.map((t) => (t.tier === 'free' ? { ...t, minShare: 0.25 } : t));
    expect(tierShares(tiers).free).toBeCloseTo(0.25, 5);
    const c = pulls(tiers, ['pro', 'plus', 'free'], 1000);
    expect(Math.abs(c.free - 250)).toBeLessThanOrEqual(2);
  });

  it('starves a minShare-0 tier while a higher tier waits, serves it when alone', () => {
    const tiers = TIERS.map((t) => (t.tier === 'free' ? { ...t, minShare: 0 } : t));
    expect(pulls(tiers, ['pro', 'free'], 100).free).toBeUndefined();
    expect(pulls(tiers, ['free'], 10).free).toBe(10);
  });

  it('gives an idle tier no saved-up burst when it returns', () => {
    let state = initialSchedulerState();
    for (let i = 0; i < 100; i++) state = chooseTier(TIERS, new Set(['pro']), state).state;
    const picks: string[] = [];
    for (let i = 0; i < 13; i++) {
      const c = chooseTier(TIERS, new Set(['pro', 'free']), state);
      state = c.state;
      picks.push(c.tier!);
    }
    expect(picks.filter((t) => t === 'free').length).toBeLessThanOrEqual(2);
  });
});
