import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack } from '../../bin/commands/start.ts';
import { KEYS, stackDirs } from '../bin/stack-fixture.ts';

/**
 * Follows a job by its W3C trace id through the structured logs of an embedded stack: the
 * gateway's admission line, the worker's lines, the final state. The stack logs to a stream
 * the test reads, at debug level (admission decisions are debug lines).
 */
type Line = Record<string, unknown> & { msg: string; level: number };
const lines: Line[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    for (const text of String(chunk).split('\n')) if (text.trim()) lines.push(JSON.parse(text));
    done();
  },
});
let stack: Awaited<ReturnType<typeof startEmbeddedStack>>;

beforeAll(async () => {
  const { env } = stackDirs();
  const log = pino({ level: 'debug', base: { service: 'spillway' } }, sink);
  stack = await startEmbeddedStack({ env: { ...env, SPILLWAY_LOG_LEVEL: 'debug' }, port: 0, log });
}, 90_000);

afterAll(async () => {
  await stack?.close();
});

const post = (key: string, headers: Record<string, string> = {}) =>
  fetch(`${stack.url}/v1/images/generations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ prompt: 'a lighthouse at dusk', size: '256x256' }),
  });

async function finalState(location: string, key: string): Promise<string> {
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    const job = (await (
      await fetch(new URL(location, stack.url), { headers: { authorization: `Bearer ${key}` } })
    ).json()) as { status: string };
    if (['completed', 'blocked', 'failed', 'expired', 'cancelled'].includes(job.status)) return job.status;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${location} did not finish`);
}

describe('a job followed by its trace id', () => {
  it('from the gateway admission line through the worker lines to the final state', async () => {
    const traceId = randomBytes(16).toString('hex');
    const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;
    const res = await post(KEYS.pro, { traceparent, prefer: 'respond-async' });
    await res.text();
    expect(res.status).toBe(202);
    // The gateway continues the caller's trace and says so.
    expect(res.headers.get('traceparent')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    const state = await finalState(res.headers.get('location')!, KEYS.pro);
    expect(state).toBe('completed');
    // The worker's last line may land just after the record turns terminal.
    const until = Date.now() + 5000;
    while (!lines.some((l) => l.traceId === traceId && l.msg === 'job finished') && Date.now() < until)
      await new Promise((r) => setTimeout(r, 50));

    const traced = lines.filter((l) => l.traceId === traceId);
    expect(traced.map((l) => l.msg)).toEqual(
      expect.arrayContaining(['admitted', 'job claimed', 'job finished']),
    );
    const admitted = traced.find((l) => l.msg === 'admitted')!;
    const claimed = traced.find((l) => l.msg === 'job claimed')!;
    const finished = traced.find((l) => l.msg === 'job finished')!;
    expect(traced.indexOf(admitted)).toBeLessThan(traced.indexOf(claimed));
    expect(traced.indexOf(claimed)).toBeLessThan(traced.indexOf(finished));
    expect(finished.outcome).toBe('completed');
    // Every line about the job carries the same job id, account pseudonym, lane, tier and trace.
    const jobId = admitted.jobId;
    expect(jobId).toMatch(/^job_/);
    const aboutJob = lines.filter((l) => l.jobId === jobId);
    expect(aboutJob.length).toBeGreaterThanOrEqual(3);
    for (const l of aboutJob) {
      expect(l, l.msg).toMatchObject({ traceId, account: admitted.account, lane: 'api', tier: 'pro' });
    }
    // A pseudonym, never the account id or the key.
    expect(admitted.account).toMatch(/^[0-9a-f]{12}$/);
    expect(JSON.stringify(aboutJob)).not.toContain('acct-pro');
    expect(JSON.stringify(lines)).not.toContain(KEYS.pro);
    // The trace context reached the worker inside the queued message.
    expect(claimed.traceparent).toMatch(new RegExp(`^00-${traceId}-`));
  });

  it('refusals are logged at info with their trace id, rate-limited under a flood', async () => {
    const traceId = randomBytes(16).toString('hex');
    const before = lines.length;
    // The free tier's burst is 3: the rest of the flood is refused on the account's own limit.
    const statuses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        post(KEYS.free, i === 99 ? { traceparent: `00-${traceId}-${'1'.repeat(16)}-01` } : {}).then(
          async (r) => {
            await r.text();
            return r.status;
          },
        ),
      ),
    );
    const refusedCount = statuses.filter((s) => s === 429).length;
    expect(refusedCount).toBeGreaterThan(90);
    const refusedLines = lines.slice(before).filter((l) => l.msg === 'refused');
    expect(refusedLines.length).toBeGreaterThan(0);
    // rateLimitedLog: a bounded number of lines per second, the rest counted as dropped.
    expect(refusedLines.length).toBeLessThan(refusedCount);
    for (const l of refusedLines) {
      expect(l.level).toBe(30);
      expect(l).toMatchObject({ lane: 'chat', tier: 'free', reason: 'account_rate' });
      expect(l.traceId).toMatch(/^[0-9a-f]{32}$/);
    }
  });
});
