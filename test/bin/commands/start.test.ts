import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningStack, startEmbeddedStack } from '../../../bin/commands/start.ts';
import { openaiScenarios } from '../openai-scenarios.ts';
import { asyncRoundTrip, KEYS, stackDirs } from '../stack-fixture.ts';

describe('embedded stack (npm start)', () => {
  let stack: RunningStack;

  beforeAll(async () => {
    stack = await startEmbeddedStack({ env: stackDirs().env, port: 0 });
  }, 60_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('answers /healthz once started', async () => {
    const res = await fetch(`${stack.url}/healthz`);
    expect(res.status).toBe(200);
  });

  it('serves the async round trip: 202, a job URL, then the finished image', async () => {
    const r = await asyncRoundTrip(stack.url, KEYS.pro, { prompt: 'a lighthouse at dawn', size: '256x256' });
    expect(r.status).toBe(202);
    expect(r.location).toMatch(/^\/v1\/images\/jobs\/job_/);
    expect(r.job.status).toBe('completed');
    const data = (r.job.result as { data: { b64_json: string }[] }).data;
    const png = Buffer.from(data[0].b64_json, 'base64');
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  describe('the official openai SDK', () => openaiScenarios(() => stack.url));

  it('serves the controller status page on the same port', async () => {
    const res = await fetch(`${stack.url}/status/api/state`);
    expect(res.status).toBe(200);
  });
});
