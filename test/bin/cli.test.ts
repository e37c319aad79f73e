import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function spillway(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['bin/spillway.js', ...args], {
    env: { ...process.env, SPILLWAY_LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('bad configuration gets a clear error naming the setting, never a stack trace', () => {
  it.each([
    ['PORT', 'not-a-port'],
    ['SPILLWAY_MODE', 'sideways'],
    ['SPILLWAY_WORKER_SLOTS', '0'],
    ['SPILLWAY_KAFKA_BROKERS', 'no port here'],
    ['SPILLWAY_REDIS_URL', 'not a url'],
  ])('%s=%s', (name, value) => {
    const r = spillway(['start', 'gateway'], { [name]: value });
    expect(r.code).toBe(1);
    expect(r.out).toContain(name);
    expect(r.out).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  });

  it('an unreachable Redis at start names SPILLWAY_REDIS_URL', () => {
    const r = spillway(['start', 'gateway'], {
      SPILLWAY_REDIS_URL: 'redis://127.0.0.1:1',
      SPILLWAY_KAFKA_BROKERS: '127.0.0.1:2',
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/SPILLWAY_REDIS_URL|SPILLWAY_KAFKA_BROKERS/);
    expect(r.out).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/);
  });

  it('an invalid policy at start names file, line and column', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spillway-policy-'));
    writeFileSync(join(dir, 'default.yaml'), 'tiers:\n  free:\n    maxWait: soon\n');
    const r = spillway(['start'], { SPILLWAY_POLICY_DIR: dir, PORT: '0' });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/default\.yaml:3:\d+/);
  });

  it('an unknown command prints usage and exits 2', () => {
    const r = spillway(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.out).toContain('usage: spillway');
  });
});
