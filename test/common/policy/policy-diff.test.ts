import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../../../common/policy/loader.ts';
import { describePolicyDiff } from '../../../common/policy/policy-diff.ts';
import { explainPolicy } from '../../../common/policy/policy-explain.ts';
import type { Policy } from '../../../common/policy/schema.ts';
import { compileWithOverride, DEFAULT_TEXT } from './policy-fixture.ts';

function policy(override = ''): Policy {
  const r = override
    ? compileWithOverride(override)
    : compilePolicy([{ path: 'd.yaml', text: DEFAULT_TEXT }]);
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('\n'));
  return r.active.policy;
}

describe('describePolicyDiff', () => {
  it('says what changes per tier in ops words', () => {
    const after = policy(
      'tiers:\n  free: { maxWait: 90s }\n  pro: { rateLimit: 300/min }\nrollout:\n  - { feature: edit, tier: free, percent: 25 }\nfallback:\n  chat: { free: 1/s }\n',
    );
    expect(describePolicyDiff(policy(), after)).toEqual([
      'pro rate limit 600/min → 300/min',
      'free max wait 2m → 90s',
      'gate added: edit for free 25% of accounts',
      'fallback chat/free 2/s → 1/s',
    ]);
  });

  it('shows every duration and rate in its units, from the schema, in every section', () => {
    const after = policy(
      [
        'workers: { lease: 30s, deliveryRetry: 1m, maxAttempts: 5 }',
        'control: { interval: 500ms, capacity: { sampleWindow: 5s, holdAfterLoss: 20s } }',
        'signup: { perClient: 10/h, global: 200/s }',
        'limits: { urlTtl: 2h, maxParts: 8 }',
        '',
      ].join('\n'),
    );
    expect(describePolicyDiff(policy(), after)).toEqual([
      'control.interval 1s → 500ms',
      'control.capacity.sampleWindow 10s → 5s',
      'control.capacity.holdAfterLoss 1m → 20s',
      'signup.perClient 5/h → 10/h',
      'signup.global 300/s → 200/s',
      'limits.maxParts 16 → 8',
      'limits.urlTtl 1h → 2h',
      'workers.lease 15s → 30s',
      'workers.maxAttempts 3 → 5',
      'workers.deliveryRetry 30s → 1m',
    ]);
  });

  it('reports gates removed and nothing for identical policies', () => {
    const gated = policy('rollout:\n  - { feature: stream, tier: free, enabled: false }\n');
    expect(describePolicyDiff(gated, policy())).toEqual(['gate removed: stream for free (now open)']);
    expect(describePolicyDiff(policy(), policy())).toEqual([]);
  });
});

describe('explainPolicy', () => {
  it('lists the limits, brownout steps and gates for lane × tier × operation', () => {
    const p = policy('rollout:\n  - { feature: edit, tier: free, percent: 25 }\n');
    const text = explainPolicy(p, 'api', 'free', 'edit').join('\n');
    expect(text).toContain('cost: 2 units');
    expect(text).toContain('10/min (burst 3)');
    expect(text).toContain('refused or expired after 2m');
    expect(text).toContain('3) 2 passes, max 512x512, 0 partial images, no edits — edits refused from here');
    expect(text).toContain('gate edit: 25% of accounts');
    expect(() => explainPolicy(p, 'api', 'gold', 'edit')).toThrow(/no tier "gold"/);
  });
});
