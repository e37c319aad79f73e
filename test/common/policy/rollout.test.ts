import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { rolloutAllows, rolloutBucket } from '../../../common/policy/rollout.ts';
import type { RolloutGate } from '../../../common/policy/schema.ts';

const ids = Array.from({ length: 4000 }, (_, i) => `acct_${i}`);
const gate = (g: Partial<RolloutGate>): RolloutGate => ({
  feature: 'generate',
  tier: 'free',
  enabled: true,
  percent: 100,
  ...g,
});

describe('rolloutAllows', () => {
  it('gives every account the same bucket after a restart (a fresh process)', () => {
    const script =
      "import('./common/policy/rollout.ts').then((m) => process.stdout.write(JSON.stringify(" +
      `${JSON.stringify(ids.slice(0, 500))}.map(m.rolloutBucket))))`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual(ids.slice(0, 500).map(rolloutBucket));
  });

  it('keeps the buckets of known accounts (changing the hash would reshuffle every rollout)', () => {
    expect(['acct_1', 'acct_2', 'b3f1c9'].map(rolloutBucket)).toEqual([1462, 991, 4185]);
  });

  it('admits about the gate percentage, and raising it keeps everyone already in', () => {
    const at = (percent: number) =>
      new Set(ids.filter((id) => rolloutAllows([gate({ percent })], 'generate', 'free', id, 0)));
    const ten = at(10);
    const twenty = at(20);
    expect(ten.size / ids.length).toBeGreaterThan(0.08);
    expect(ten.size / ids.length).toBeLessThan(0.12);
    expect(twenty.size / ids.length).toBeGreaterThan(0.18);
    expect(twenty.size / ids.length).toBeLessThan(0.22);
    for (const id of ten) expect(twenty.has(id)).toBe(true);
  });

  it('is closed before startAt, when disabled, and open without a gate', () => {
    const startAt = '2025-06-03T16:00:00Z';
    const t = Date.parse(startAt);
    const gates = [gate({ startAt }), gate({ feature: 'edit', enabled: false })];
    expect(rolloutAllows(gates, 'generate', 'free', 'a', t - 1)).toBe(false);
    expect(rolloutAllows(gates, 'generate', 'free', 'a', t)).toBe(true);
    expect(rolloutAllows(gates, 'edit', 'free', 'a', t)).toBe(false);
    expect(rolloutAllows(gates, 'edit', 'pro', 'a', t)).toBe(true);
    expect(rolloutAllows([gate({ percent: 0 })], 'generate', 'free', 'a', t)).toBe(false);
  });
});
