import { cpSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningStack, startEmbeddedStack } from '../../../bin/commands/start.ts';
import { KEYS, stackDirs } from '../stack-fixture.ts';

/** Ops edit a policy file of a running embedded stack: the 429s follow, nothing restarts or drops. */
describe('policy hot reload in a running embedded stack', () => {
  let stack: RunningStack;
  let policyDir: string;

  beforeAll(async () => {
    policyDir = mkdtempSync(join(tmpdir(), 'spillway-live-policy-'));
    cpSync('policies', policyDir, { recursive: true });
    const { env } = stackDirs();
    stack = await startEmbeddedStack({ env: { ...env, SPILLWAY_POLICY_DIR: policyDir }, port: 0 });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  const submit = async () => {
    const res = await fetch(`${stack.url}/v1/images/generations`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${KEYS.free}`,
        'content-type': 'application/json',
        prefer: 'respond-async',
      },
      body: JSON.stringify({ prompt: 'a kite', size: '256x256' }),
    });
    await res.text();
    return res.status;
  };

  it('a raised free rate limit stops the 429s within 5 s, without a restart or a dropped request', async () => {
    // Default policy: free accounts get 10/min with a burst of 3.
    const before = [];
    for (let i = 0; i < 6; i++) before.push(await submit());
    expect(before.filter((s) => s === 202).length).toBeLessThanOrEqual(3);
    expect(before).toContain(429);

    const file = join(policyDir, '00-default.yaml');
    const edited = readFileSync(file, 'utf8')
      .replace(/(free:[\s\S]*?rateLimit: )10\/min/, '$16000/min')
      .replace(/(free:[\s\S]*?burst: )3\b/, '$1500');
    expect(edited).not.toBe(readFileSync(file, 'utf8'));
    // Editors save by writing a temporary file and renaming it over the old one.
    writeFileSync(`${file}.tmp`, edited);
    renameSync(`${file}.tmp`, file);

    const changedAt = Date.now();
    const statuses: number[] = [];
    let firstAccepted = -1;
    while (Date.now() - changedAt < 8000) {
      const s = await submit();
      statuses.push(s);
      if (s === 202 && firstAccepted < 0) firstAccepted = Date.now() - changedAt;
      if (firstAccepted >= 0 && statuses.length > 5) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(firstAccepted).toBeGreaterThanOrEqual(0);
    expect(firstAccepted).toBeLessThan(5000);
    // Every request got an answer from the API (202 or 429), none was dropped or errored.
    expect(statuses.every((s) => s === 202 || s === 429)).toBe(true);
    expect(statuses.slice(-3)).toEqual([202, 202, 202]);
  });

  it('an invalid edit is rejected and the last good policy keeps serving', async () => {
    const file = join(policyDir, '00-default.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(/maxWait: 2m/, 'maxWait: whenever'));
    await new Promise((r) => setTimeout(r, 2500));
    expect(await submit()).toBe(202);
    const status = await fetch(`${stack.url}/status/api/state`).then((r) => r.json());
    expect(JSON.stringify(status)).toMatch(/default\.yaml/);
  });
});
