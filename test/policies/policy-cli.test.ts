import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TEXT } from '../common/policy/policy-fixture.ts';

const run = promisify(execFile);
let dir: string;

async function spillway(...args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run(process.execPath, ['bin/spillway.js', 'policy', ...args], {
      encoding: 'utf8',
    });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string };
    return { code: e.code, stdout: e.stdout };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spillway-cli-'));
  await writeFile(join(dir, '10-default.yaml'), DEFAULT_TEXT);
  await writeFile(join(dir, '20-bad.yaml'), 'tiers:\n  free:\n    maxWait: soon\n  pro:\n    maxWait: 0s\n');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('spillway policy (CLI)', () => {
  it('checks the shipped policies and the launch-day example', async () => {
    expect((await spillway('check', 'policies')).code).toBe(0);
    expect((await spillway('check', 'policies/examples/launch-day.yaml')).code).toBe(0);
  });

  it('exits non-zero with file:line:col: rule: message lines', async () => {
    const { code, stdout } = await spillway('check', dir);
    expect(code).toBe(1);
    expect(stdout).toContain(`${join(dir, '20-bad.yaml')}:3:14: schema/invalid_format: must be a duration`);
  });

  it('warns on an override a later base file undoes (check, diff and explain), and refuses it with --strict', async () => {
    const shadowed = await mkdtemp(join(tmpdir(), 'spillway-cli-shadow-'));
    try {
      await writeFile(join(shadowed, '50-launch.yaml'), 'tiers:\n  free:\n    burst: 1\n');
      await writeFile(join(shadowed, 'policy.yaml'), DEFAULT_TEXT);
      const lenient = await spillway('check', shadowed);
      expect(lenient.code).toBe(0);
      expect(lenient.stdout).toContain(
        `warning: ${join(shadowed, '50-launch.yaml')}:3:12: shadowed-file: no effect`,
      );
      const strict = await spillway('check', '--strict', shadowed);
      expect(strict.code).toBe(1);
      expect(strict.stdout).toContain('refused (--strict): 1 warning(s)');
      expect((await spillway('check', '--strict', 'policies')).code).toBe(0);
      const diff = await spillway('diff', 'policies', shadowed);
      expect(diff.code).toBe(0);
      expect(diff.stdout).toMatch(/^warning: .*50-launch\.yaml:3:12: shadowed-file: no effect/);
      const explain = await spillway('explain', '--lane', 'chat', '--tier', 'free', shadowed);
      expect(explain.stdout).toMatch(/^warning: .*50-launch\.yaml:3:12: shadowed-file/);
    } finally {
      await rm(shadowed, { recursive: true, force: true });
    }
  });

  it('diffs two directories and explains a lane × tier × operation', async () => {
    const diff = await spillway('diff', 'policies', 'policies/examples');
    expect(diff.stdout).toContain('pro rate limit 600/min → 300/min');
    expect(diff.stdout).toContain('gate added: generate for free 10% of accounts from 2025-06-03T16:00:00Z');
    const explain = await spillway('explain', '--lane', 'chat', '--tier', 'pro', '--op', 'generate');
    expect(explain.code).toBe(0);
    expect(explain.stdout).toContain('brownout: none');
  });

  it('finds the committed JSON Schema up to date', async () => {
    expect((await spillway('schema', '--check')).code).toBe(0);
  });
});
