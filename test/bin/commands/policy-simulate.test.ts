import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** `spillway policy simulate`: ops compare policies on a campaign before shipping one. */
function simulate(policyDir: string): {
  code: number | null;
  report: { runs: unknown[] } | null;
  out: string;
} {
  const out = mkdtempSync(join(tmpdir(), 'spillway-whatif-'));
  const r = spawnSync(
    process.execPath,
    [
      'bin/spillway.js',
      'policy',
      'simulate',
      'loadtests/campaigns/steady.yaml',
      '--policy',
      policyDir,
      '--out',
      out,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  const json = readdirSync(out).find((f) => f.endsWith('.json'));
  return {
    code: r.status,
    report: json ? JSON.parse(readFileSync(join(out, json), 'utf8')) : null,
    out: `${r.stdout}${r.stderr}`,
  };
}

function freeAvailability(out: string): number {
  const m = /free\s+availability\s+([\d.]+) %/.exec(out);
  if (!m) throw new Error(`no free availability in:\n${out}`);
  return Number(m[1]);
}

describe('spillway policy simulate', () => {
  it('runs the simulator on a policy directory and shows how the policy changes the outcome', () => {
    const base = simulate('policies');
    const launch = simulate('policies/examples');
    expect(base.code).toBe(0);
    expect(launch.code).toBe(0);
    expect(base.report).not.toBeNull();
    // The launch-day policy opens free to a fraction of accounts only: free availability drops.
    expect(freeAvailability(launch.out)).toBeLessThan(freeAvailability(base.out));
  });

  it('warns when the policy it is given has a file that later files undo', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spillway-whatif-policy-'));
    try {
      copyFileSync('policies/examples/launch-day.yaml', join(dir, '50-launch.yaml'));
      copyFileSync('policies/00-default.yaml', join(dir, 'policy.yaml'));
      const run = simulate(dir);
      expect(run.code).toBe(0);
      expect(run.out).toMatch(/warning: .*50-launch\.yaml:\d+:\d+: shadowed-file: \d+ of the \d+ values/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
