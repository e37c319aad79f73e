import { describe, expect, it } from 'vitest';
import { checkPolicy } from '../../../common/policy/semantic-checks.ts';
import { compileWithOverride, DEFAULT_TEXT, issuesOf, LAUNCH_DAY_TEXT, lineOf } from './policy-fixture.ts';
import { compilePolicy } from '../../../common/policy/loader.ts';

// [what, override file, file, line, column, rule]: each policy passes the schema but breaks a rule.
const O = '20-override.yaml';
const D = '10-default.yaml';
const CASES: [string, string, string, number, number, string][] = [
  ['gate for an unknown tier', 'rollout:\n  - { feature: edit, tier: gold }\n', O, 2, 28, 'tier-exists'],
  ['sign-up into an unknown tier', 'signup:\n  tier: gold\n', O, 2, 9, 'tier-exists'],
  ['sign-up into an unknown lane', 'signup:\n  lane: web\n', O, 2, 9, 'lane-exists'],
  ['fallback for an unknown lane', 'fallback:\n  web: { free: 1/s }\n', O, 2, 3, 'lane-exists'],
  ['fallback for an unknown tier', 'fallback:\n  chat:\n    gold: 1/s\n', O, 3, 5, 'tier-exists'],
  ['lane shares above 1', 'lanes:\n  chat: { share: 0.8 }\n', O, 2, 3, 'lane-shares'],
  ['tier min shares above 1', 'tiers:\n  free:\n    minShare: 0.9\n', O, 2, 3, 'min-shares'],
  ['default model missing', 'models:\n  default: dall-e-9\n', O, 2, 12, 'model-default'],
  [
    'default size not offered',
    'models:\n  available:\n    - { name: gpt-image-1, sizes: [256x256], defaultSize: 1024x1024, passes: 2 }\n',
    O,
    3,
    59,
    'default-size',
  ],
  [
    'model listed twice',
    'models:\n  available:\n    - { name: gpt-image-1, sizes: [256x256], defaultSize: 256x256, passes: 2 }\n    - { name: gpt-image-1, sizes: [256x256], defaultSize: 256x256, passes: 2 }\n',
    O,
    4,
    15,
    'model-unique',
  ],
  ['priority taken twice', 'tiers:\n  free:\n    priority: 20\n', O, 3, 15, 'priority-unique'],
  [
    'brownout step milder than the one before',
    'tiers:\n  free:\n    brownout:\n      - { passes: 2 }\n      - { passes: 3 }\n',
    O,
    5,
    9,
    'brownout-monotonic',
  ],
  [
    'brownout step no harsher than the one before',
    'tiers:\n  free:\n    brownout:\n      - { passes: 2 }\n      - { passes: 2, edits: true }\n',
    O,
    5,
    9,
    'brownout-monotonic',
  ],
  ['sync wait beyond max wait', 'tiers:\n  free:\n    syncWait: 5m\n', O, 3, 15, 'sync-wait'],
  ['paid tier with maxWait 0', 'tiers:\n  pro:\n    maxWait: 0s\n', O, 3, 14, 'paid-refused'],
  ['paid tier with rate limit 0', 'tiers:\n  plus:\n    rateLimit: 0/min\n', O, 3, 16, 'paid-refused'],
  [
    'paid generate gate off',
    'rollout:\n  - { feature: generate, tier: pro, enabled: false }\n',
    O,
    2,
    46,
    'paid-refused',
  ],
  [
    'paid generate gate at 0%',
    'rollout:\n  - { feature: generate, tier: plus, percent: 0 }\n',
    O,
    2,
    47,
    'paid-refused',
  ],
  ['paid fallback rate 0', 'fallback:\n  api: { pro: 0/s }\n', O, 2, 15, 'paid-refused'],
  [
    'paid tier below an unpaid one',
    'tiers:\n  plus:\n    paid: false\n    priority: 35\n',
    D,
    lineOf(DEFAULT_TEXT, 'priority: 30'),
    15,
    'paid-priority',
  ],
  [
    'two gates for one feature × tier',
    'rollout:\n  - { feature: edit, tier: free }\n  - { feature: edit, tier: free, percent: 5 }\n',
    O,
    3,
    5,
    'gate-duplicate',
  ],
  ['edit cheaper than generate', 'operations:\n  edit: { cost: 0.5 }\n', O, 2, 17, 'edit-cost'],
  ['ttl not above the control interval', 'control:\n  ttl: 1s\n', O, 2, 8, 'control-ttl'],
];

describe('semantic checks', () => {
  it('pass the shipped policies', () => {
    expect(compilePolicy([{ path: 'default.yaml', text: DEFAULT_TEXT }]).ok).toBe(true);
    expect(compilePolicy([{ path: 'launch-day.yaml', text: LAUNCH_DAY_TEXT }]).ok).toBe(true);
  });

  it.each(CASES)('%s is refused at its place', (_what, override, file, line, column, rule) => {
    const issues = issuesOf(compileWithOverride(override));
    expect(issues).toContainEqual(expect.objectContaining({ file, line, column, rule }));
  });

  it('refuses a paid tier missing from a lane fallback (unset means 0)', () => {
    const result = compilePolicy([
      {
        path: 'a.yaml',
        text: DEFAULT_TEXT.replace('api: { pro: 10/s, plus: 5/s, free: 1/s }', 'api: { free: 1/s }'),
      },
    ]);
    const rules = issuesOf(result).map((i) => `${i.rule} ${i.message}`);
    expect(rules.filter((r) => r.startsWith('paid-refused'))).toHaveLength(2); // pro and plus in api
  });

  it('counts only the lowest-priority tier as unpaid unless `paid:` says otherwise', () => {
    // free (lowest) may be refused outright when the controller is away: fail safe.
    expect(compileWithOverride('fallback:\n  chat: { free: 0/s }\n').ok).toBe(true);
    // Declared unpaid, plus may be closed too; declared paid, free may not.
    expect(
      compileWithOverride('tiers:\n  plus: { paid: false }\nfallback:\n  chat: { plus: 0/s }\n').ok,
    ).toBe(true);
    expect(compileWithOverride('tiers:\n  free: { paid: true }\nfallback:\n  chat: { free: 0/s }\n').ok).toBe(
      false,
    );
  });

  it('is pure: the same policy gives the same issues', () => {
    const result = compileWithOverride('');
    if (!result.ok) throw new Error('default must be valid');
    const broken = { ...result.active.policy, lanes: { chat: { share: 0.9 }, api: { share: 0.9 } } };
    expect(checkPolicy(broken)).toEqual(checkPolicy(broken));
    expect(checkPolicy(broken).map((i) => i.rule)).toEqual(['lane-shares']);
  });
});
