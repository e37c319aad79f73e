import { describe, expect, it } from 'vitest';
import { compilePolicy, type PolicyText } from '../../../common/policy/loader.ts';
import type { ActivePolicy } from '../../../common/policy/schema.ts';
import { leafPaths } from '../../../common/policy/shadowing.ts';
import { DEFAULT_TEXT, LAUNCH_DAY_TEXT } from './policy-fixture.ts';

function compiled(texts: PolicyText[]): ActivePolicy {
  const result = compilePolicy(texts);
  if (!result.ok) throw new Error(`refused: ${result.issues[0].message}`);
  return result.active;
}

const base = (path: string) => ({ path, text: DEFAULT_TEXT });
const launch = (path: string) => ({ path, text: LAUNCH_DAY_TEXT });

describe('leafPaths', () => {
  it('counts scalars, nulls and whole lists as values, and empty maps as none', () => {
    const doc = { a: { b: 1, c: [1, 2], d: {} }, e: null };
    expect(leafPaths(doc)).toEqual([['a', 'b'], ['a', 'c'], ['e']]);
    expect(leafPaths(null)).toEqual([]);
  });
});

describe('policy files that later files undo', () => {
  it('warns on an override when a base file sorts after it, naming the base and the override line', () => {
    // The trap: a deployment's own base named policy.yaml sorts after 50-launch.yaml ('p' > '5').
    const active = compiled([launch('50-launch.yaml'), base('policy.yaml')]);
    expect(active.warnings).toHaveLength(1);
    const [w] = active.warnings ?? [];
    expect(w).toMatchObject({ file: '50-launch.yaml', rule: 'shadowed-file', path: 'models.default' });
    expect(w.line).toBe(LAUNCH_DAY_TEXT.split('\n').findIndex((l) => l.trim().startsWith('default:')) + 1);
    expect(w.message).toMatch(/^\d+ of the \d+ values it sets are replaced by policy\.yaml/);
  });

  it('is quiet when the base sorts first, as shipped', () => {
    expect(compiled([base('00-default.yaml'), launch('90-launch.yaml')]).warnings).toEqual([]);
    expect(compiled([base('00-default.yaml')]).warnings).toEqual([]);
  });

  it('is quiet for stacked overrides that each keep values of their own', () => {
    const launchOverride = 'tiers:\n  free:\n    rateLimit: 2/min\n    burst: 1\n';
    const emergency = 'tiers:\n  free:\n    rateLimit: 1/min\n';
    const active = compiled([
      base('00-default.yaml'),
      { path: '50-launch.yaml', text: launchOverride },
      { path: '90-emergency.yaml', text: emergency },
    ]);
    expect(active.warnings).toEqual([]);
  });

  it('says a file has no effect when every value it sets is replaced, whatever the sizes', () => {
    const active = compiled([
      base('00-default.yaml'),
      { path: '50-launch.yaml', text: 'tiers:\n  free:\n    rateLimit: 2/min\n' },
      { path: '90-emergency.yaml', text: 'tiers:\n  free:\n    rateLimit: 1/min\n    burst: 1\n' },
    ]);
    expect(active.warnings).toMatchObject([
      { file: '50-launch.yaml', line: 3, rule: 'shadowed-file', path: 'tiers.free.rateLimit' },
    ]);
    expect(active.warnings?.[0].message).toMatch(
      /^no effect: every value it sets is replaced by 90-emergency\.yaml/,
    );
  });

  it('counts an empty list as a value, which a later list replaces whole', () => {
    const active = compiled([
      base('00-default.yaml'),
      { path: '50-a.yaml', text: 'tiers:\n  free:\n    brownout: []\n' },
      { path: '60-b.yaml', text: 'tiers:\n  free:\n    brownout:\n      - { partialImages: 0 }\n' },
    ]);
    expect(active.warnings?.map((w) => w.file)).toEqual(['50-a.yaml']);
  });
});
