import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'spillway-accounts-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function accounts(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/spillway.js', 'accounts', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, lines: string[]): string {
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

describe('spillway accounts check', () => {
  it('counts a valid file by lane and tier', () => {
    const ok = file('ok.yaml', [
      '- { key: sk-cli-aaaaaaaa1, tier: pro, lane: chat }',
      '- { key: sk-cli-aaaaaaaa2, tier: free, lane: api }',
      '- { key: sk-cli-aaaaaaaa3, tier: free, lane: api }',
    ]);
    const r = accounts('check', ok);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('ok: 3 accounts (chat/pro 1, api/free 2)\n');
    expect(accounts('check', ok, '--policy', 'policies/examples').code).toBe(0);
    expect(accounts('check', ok, '--policy', join(dir, 'no-policy')).stderr).toMatch(/no-policy/);
  });

  it('names every problem, never printing a key', () => {
    const bad = file('bad.yaml', [
      '- { key: sk-cli-secret-1, tier: launch, lane: chat }',
      '- { key: sk-cli-secret-1, tier: pro, lane: chat }',
    ]);
    const shipped = accounts('check', bad);
    expect(shipped.code).toBe(1);
    expect(shipped.stderr).toContain(`${bad}:1:33: entry/tier: entry 0: unknown tier "launch"`);
    expect(shipped.stderr).toContain(`${bad}:2:10: entry/key: entry 1: the key of entry 0 again`);
    expect(`${shipped.stdout}${shipped.stderr}`).not.toContain('sk-cli-secret');
  });

  it('says which file it could not read, and shows its usage when called wrong', () => {
    const missing = accounts('check', join(dir, 'nope.yaml'));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/SPILLWAY_ACCOUNTS_FILE: .*nope\.yaml: ENOENT/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    expect(accounts().code).toBe(2);
  });
});
