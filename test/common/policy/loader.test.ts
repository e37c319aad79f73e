import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicy, loadPolicyDir, loadPolicyFiles } from '../../../common/policy/loader.ts';
import { PolicyError } from '../../../common/policy/policy-issue.ts';
import { compileWithOverride, DEFAULT_TEXT, issuesOf } from './policy-fixture.ts';

/** Nested block YAML for `path: value`, two-space indent, so the expected place is arithmetic. */
function nested(path: string[], value: string): string {
  return path.map((k, i) => `${'  '.repeat(i)}${k}:${i === path.length - 1 ? ` ${value}` : ''}`).join('\n');
}

// [path, bad value as YAML, expected rule]. The error must point at the value's line and column.
const BAD_VALUES: [string, string, string][] = [
  ['tiers.free.priority', '-1', 'schema/too_small'],
  ['tiers.free.priority', '1.5', 'schema/invalid_type'],
  ['tiers.free.paid', '"yes"', 'schema/invalid_type'],
  ['tiers.free.weight', '0', 'schema/too_small'],
  ['tiers.free.minShare', '1.5', 'schema/too_big'],
  ['tiers.free.maxWait', 'soon', 'schema/invalid_format'],
  ['tiers.free.maxWait', '90', 'schema/invalid_type'],
  ['tiers.free.syncWait', '10 parsecs', 'schema/invalid_format'],
  ['tiers.free.rateLimit', '10/week', 'schema/invalid_format'],
  ['tiers.free.burst', '0', 'schema/too_small'],
  ['tiers.free.maxConnections', '2.5', 'schema/invalid_type'],
  ['tiers.free.brownout', 'harsh', 'schema/invalid_type'],
  ['lanes.chat.share', '1.2', 'schema/too_big'],
  ['operations.edit.cost', '0', 'schema/too_small'],
  ['operations.generate.cost', 'cheap', 'schema/invalid_type'],
  ['models.default', '42', 'schema/invalid_type'],
  ['models.available', '[]', 'schema/too_small'],
  ['rollout', '{}', 'schema/invalid_type'],
  ['saturation.gpuUtilization', '2', 'schema/too_big'],
  ['saturation.passLatencyRatio', '0.5', 'schema/too_small'],
  ['saturation.storeLatency', 'fast', 'schema/invalid_format'],
  ['saturation.authLatency', '100', 'schema/invalid_type'],
  ['saturation.authErrorRate', '-0.1', 'schema/too_small'],
  ['saturation.blobLatency', '1 fortnight', 'schema/invalid_format'],
  ['saturation.signalMaxAge', 'old', 'schema/invalid_format'],
  ['control.law', 'pid', 'schema/invalid_value'],
  ['control.interval', '1', 'schema/invalid_type'],
  ['control.ttl', 'forever', 'schema/invalid_format'],
  ['control.aimd.increase', '0', 'schema/too_small'],
  ['control.aimd.decrease', '1', 'schema/too_big'],
  ['control.gradient.gain', '-1', 'schema/too_small'],
  ['control.gradient.smoothing', '2', 'schema/too_big'],
  ['signup.perClient', 'lots', 'schema/invalid_format'],
  ['signup.global', '300', 'schema/invalid_type'],
  ['signup.tier', 'Gold Tier', 'schema/invalid_format'],
  ['signup.lane', '7', 'schema/invalid_type'],
  ['fallback.chat.free', '2/fortnight', 'schema/invalid_format'],
  ['fallback.chat', '2/s', 'schema/invalid_type'],
  ['limits.maxBodyBytes', '0', 'schema/too_small'],
  ['limits.maxPromptChars', '-5', 'schema/too_small'],
  ['limits.maxImageBytes', '1.5', 'schema/invalid_type'],
  ['limits.maxImageDimension', 'big', 'schema/invalid_type'],
  ['limits.maxParts', '0', 'schema/too_small'],
  ['limits.headersTimeout', '10', 'schema/invalid_type'],
  ['limits.requestTimeout', 'later', 'schema/invalid_format'],
  ['limits.idempotencyTtl', '1 day', 'schema/invalid_format'],
  ['limits.urlTtl', '-1h', 'schema/invalid_format'],
  ['limits.retryHeadroom', '0.5', 'schema/too_small'],
  ['limits.retryHeadroom', '17', 'schema/too_big'],
];

// [path, expected rule]: a key that should not be there; the error points at the key.
const BAD_KEYS: [string, string][] = [
  ['colour', 'schema/unrecognized_keys'],
  ['tiers.free.colour', 'schema/unrecognized_keys'],
  ['tiers.Free', 'schema/invalid_key'],
  ['lanes.chat.width', 'schema/unrecognized_keys'],
  ['lanes.Chat Lane', 'schema/invalid_key'],
  ['operations.upscale', 'schema/unrecognized_keys'],
  ['saturation.cpu', 'schema/unrecognized_keys'],
  ['control.pid', 'schema/unrecognized_keys'],
  ['control.aimd.jitter', 'schema/unrecognized_keys'],
  ['signup.captcha', 'schema/unrecognized_keys'],
  ['limits.maxHeaders', 'schema/unrecognized_keys'],
  ['models.fallback', 'schema/unrecognized_keys'],
];

// List items: [file text, line, column, rule]. Items are complete (lists replace, never merge).
const BAD_LIST_ITEMS: [string, number, number, string][] = [
  ['tiers:\n  free:\n    brownout:\n      - passes: 0\n', 4, 17, 'schema/too_small'],
  [
    'tiers:\n  free:\n    brownout:\n      - partialImages: 1\n      - maxSize: huge\n',
    5,
    18,
    'schema/invalid_format',
  ],
  ['tiers:\n  free:\n    brownout:\n      - partialImages: 4\n', 4, 24, 'schema/too_big'],
  ['tiers:\n  free:\n    brownout:\n      - edits: "no"\n', 4, 16, 'schema/invalid_type'],
  ['tiers:\n  free:\n    brownout:\n      - { passes: 2, speed: 3 }\n', 4, 22, 'schema/unrecognized_keys'],
  ['rollout:\n  - feature: teleport\n    tier: free\n', 2, 14, 'schema/invalid_value'],
  ['rollout:\n  - feature: edit\n    tier: Free\n', 3, 11, 'schema/invalid_format'],
  ['rollout:\n  - feature: edit\n    tier: free\n    percent: 101\n', 4, 14, 'schema/too_big'],
  ['rollout:\n  - feature: edit\n    tier: free\n    startAt: tomorrow\n', 4, 14, 'schema/invalid_format'],
  ['rollout:\n  - feature: edit\n    tier: free\n    enabled: 1\n', 4, 14, 'schema/invalid_type'],
  ['rollout:\n  - feature: edit\n', 2, 5, 'schema/invalid_type'],
  [
    'models:\n  available:\n    - name: m\n      sizes: [10x10]\n      defaultSize: 10x10\n      passes: 9\n',
    6,
    15,
    'schema/too_big',
  ],
  [
    'models:\n  available:\n    - name: m\n      sizes: [10x10, big]\n      defaultSize: 10x10\n      passes: 2\n',
    4,
    22,
    'schema/invalid_format',
  ],
];

describe('policy loader', () => {
  it('loads the default policy with human units parsed', async () => {
    const { policy, version } = await loadPolicyDir('policies');
    expect(policy.tiers.free.maxWait).toBe(120_000);
    expect(policy.tiers.pro.rateLimit).toBeCloseTo(10);
    expect(policy.fallback.chat.free).toBe(2);
    expect(version).toMatch(/^[0-9a-f]{12}$/);
  });

  it('loads the launch-day example on its own, as a directory or as a file list', async () => {
    const asDir = await loadPolicyDir('policies/examples');
    const asFile = await loadPolicyFiles(['policies/examples/launch-day.yaml']);
    expect(asFile.version).toBe(asDir.version);
    expect(asDir.policy.rollout.find((g) => g.tier === 'free' && g.feature === 'generate')?.percent).toBe(10);
    expect(asDir.policy.tiers.plus.paid).toBe(true);
  });

  it('merges in order: maps merge key by key, lists replace', () => {
    const result = compileWithOverride(
      'tiers:\n  free:\n    maxWait: 90s\n    brownout:\n      - { partialImages: 0 }\nrollout:\n  - { feature: edit, tier: free, enabled: false }\n',
    );
    if (!result.ok) throw new Error(result.issues.map((i) => i.message).join('\n'));
    const { policy } = result.active;
    expect(policy.tiers.free.maxWait).toBe(90_000);
    expect(policy.tiers.free.syncWait).toBe(60_000); // kept from the earlier file
    expect(policy.tiers.free.brownout).toEqual([{ partialImages: 0, edits: true }]); // replaced, not appended
    expect(policy.rollout).toHaveLength(1);
  });

  it('versions by content: reformatting keeps the version, a value change moves it', () => {
    const base = compilePolicy([{ path: 'a.yaml', text: DEFAULT_TEXT }]);
    const reformatted = compilePolicy([{ path: 'b.yaml', text: `# note\n${DEFAULT_TEXT}\n\n` }]);
    const changed = compileWithOverride('tiers:\n  free:\n    maxWait: 90s\n');
    if (!base.ok || !reformatted.ok || !changed.ok) throw new Error('expected valid policies');
    expect(reformatted.active.version).toBe(base.active.version);
    expect(changed.active.version).not.toBe(base.active.version);
  });

  it.each(BAD_VALUES)('%s: %s is refused at its line and column', (dotted, value, rule) => {
    const path = dotted.split('.');
    const issues = issuesOf(compileWithOverride(nested(path, value)));
    const column = 2 * (path.length - 1) + path.at(-1)!.length + 3;
    expect(issues[0]).toMatchObject({ file: '20-override.yaml', line: path.length, column, rule });
  });

  it.each(BAD_KEYS)('key %s is refused at the key', (dotted, rule) => {
    const path = dotted.split('.');
    const issues = issuesOf(compileWithOverride(nested(path, '1')));
    const column = 2 * (path.length - 1) + 1;
    expect(issues).toContainEqual(
      expect.objectContaining({ file: '20-override.yaml', line: path.length, column, rule }),
    );
  });

  it.each(BAD_LIST_ITEMS)('list item %j is refused at %i:%i', (text, line, column, rule) => {
    const issues = issuesOf(compileWithOverride(text));
    expect(issues[0]).toMatchObject({ file: '20-override.yaml', line, column, rule });
  });

  it('reports YAML syntax errors and duplicate keys with their place', () => {
    const syntax = issuesOf(compileWithOverride('tiers:\n  free: [1, 2\n'));
    expect(syntax[0]).toMatchObject({ file: '20-override.yaml', rule: 'yaml' });
    expect(syntax[0].line).toBeGreaterThanOrEqual(2);
    const dup = issuesOf(compileWithOverride('control:\n  law: aimd\n  law: gradient\n'));
    expect(dup[0]).toMatchObject({ file: '20-override.yaml', line: 3, column: 3, rule: 'yaml' });
  });

  it('blames a missing required field on the file that reaches deepest towards it', () => {
    const issues = issuesOf(
      compilePolicy([
        { path: '10-default.yaml', text: DEFAULT_TEXT },
        { path: '20-new-tier.yaml', text: 'tiers:\n  team:\n    priority: 25\n    weight: 2\n' },
      ]),
    );
    const missing = issues.find((i) => i.path === 'tiers.team.maxWait');
    expect(missing).toMatchObject({
      file: '20-new-tier.yaml',
      line: 3,
      column: 5,
      rule: 'schema/invalid_type',
    });
    expect(missing?.message).toContain('missing');
  });

  it('refuses an empty directory and names it', async () => {
    await expect(loadPolicyFiles([])).rejects.toBeInstanceOf(PolicyError);
  });
});

describe('the shipped policy directory', () => {
  it('merges an override named as the launch example says (90-launch.yaml) after the default', async () => {
    // File-name order decides which file wins; the shipped default must sort before the overrides
    // ops add beside it, or every key it sets silently undoes theirs.
    const dir = mkdtempSync(join(tmpdir(), 'spillway-shipped-'));
    try {
      for (const name of readdirSync('policies').filter((n) => n.endsWith('.yaml')))
        copyFileSync(join('policies', name), join(dir, name));
      copyFileSync('policies/examples/launch-day.yaml', join(dir, '90-launch.yaml'));
      const [shipped, launch, merged] = await Promise.all(
        ['policies', 'policies/examples', dir].map((d) => loadPolicyDir(d)),
      );
      expect(launch.policy.tiers.pro.rateLimit).not.toBe(shipped.policy.tiers.pro.rateLimit);
      expect(merged.policy.tiers.pro.rateLimit).toBe(launch.policy.tiers.pro.rateLimit);
      expect(merged.policy.rollout).toEqual(launch.policy.rollout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
