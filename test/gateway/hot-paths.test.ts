import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, jsonInit, KEYS, startHarness } from './support/harness.ts';

// The admitted and shed paths over a real socket (the node adapter's lightweight request and
// response objects), where the benchmark measures them: headers complete, one trace header, and
// a shed refusal that touches no store and no queue.

const CALLER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const ASYNC = { prefer: 'respond-async' };

/** Counts calls of every method of the infra's stores and queue. */
function countCalls(h: Harness): () => Record<string, number> {
  const calls: Record<string, number> = {};
  const parts = {
    jobs: h.infra.jobs,
    events: h.infra.events,
    queue: h.infra.queue,
    coord: h.infra.coord,
    accounts: h.infra.accounts,
  };
  for (const [name, part] of Object.entries(parts)) {
    const target = part as unknown as Record<string, unknown>;
    let proto = Object.getPrototypeOf(part);
    while (proto && proto !== Object.prototype) {
      for (const key of Object.getOwnPropertyNames(proto)) {
        const fn = target[key];
        if (key === 'constructor' || typeof fn !== 'function' || Object.hasOwn(target, key)) continue;
        target[key] = (...args: unknown[]) => {
          calls[`${name}.${key}`] = (calls[`${name}.${key}`] ?? 0) + 1;
          return (fn as (...a: unknown[]) => unknown).apply(part, args);
        };
      }
      proto = Object.getPrototypeOf(proto);
    }
  }
  return () => ({ ...calls });
}

describe('hot paths over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    // Background timers (admission refresh, signal report) stay out of the counted window.
    h = await startHarness({
      serve: true,
      admission: { free: { mode: 'shed' } },
      tuning: { admissionRefreshMs: 3_600_000, signalIntervalMs: 3_600_000 },
    });
  });
  afterAll(() => h.close());

  it('sheds with the full refusal headers and one traceparent, touching no store or queue', async () => {
    // Warm the auth cache: a shed request of a known key then needs nothing from the stores.
    await h.request('/v1/images/generations', jsonInit({ prompt: 'a' }, KEYS.free, ASYNC));
    const calls = countCalls(h);
    const res = await h.request(
      '/v1/images/generations',
      jsonInit({ prompt: 'a' }, KEYS.free, { ...ASYNC, traceparent: CALLER }),
    );
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toBe('application/json');
    const trace = res.headers.get('traceparent')!;
    expect(trace).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[\da-f]{16}-01$/);
    expect(trace).not.toBe(CALLER);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers.get('retry-after-ms'))).toBeGreaterThan(0);
    expect(res.headers.get('x-ratelimit-limit-requests')).toMatch(/^\d+$/);
    expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(res.headers.get('x-ratelimit-reset-requests')).toMatch(/^[\dhms.]+$/);
    expect((await res.json()).error).toMatchObject({
      type: 'rate_limit_error',
      code: 'capacity_exceeded',
      param: null,
    });
    expect(calls()).toEqual({});
    // The counting sees what an admitted request does, so the empty record above means something.
    await h.request('/v1/images/generations', jsonInit({ prompt: 'a' }, KEYS.pro, ASYNC));
    expect(calls()).toMatchObject({ 'jobs.create': 1, 'queue.publish': 1 });
  });

  it('admits with a 202 carrying location, preference, rate-limit headers and one traceparent', async () => {
    const res = await h.request(
      '/v1/images/generations',
      jsonInit({ prompt: 'a' }, KEYS.pro, { ...ASYNC, traceparent: CALLER }),
    );
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('traceparent')).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[\da-f]{16}-01$/);
    expect(res.headers.get('preference-applied')).toBe('respond-async');
    expect(res.headers.get('vary')).toBe('Prefer');
    expect(res.headers.get('x-ratelimit-limit-requests')).toMatch(/^\d+$/);
    const job = await res.json();
    expect(res.headers.get('location')).toBe(`/v1/images/jobs/${job.id}`);
    expect(job).toMatchObject({ object: 'image.job', status: 'queued', tier: 'pro' });
  });

  it('reads a chunked body (no Content-Length) the same way as a declared one', async () => {
    const text = JSON.stringify({ prompt: 'chunked', size: '1024x1024' });
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(text.slice(0, 10)));
        c.enqueue(new TextEncoder().encode(text.slice(10)));
        c.close();
      },
    });
    const res = await fetch(`${h.url}/v1/images/generations`, {
      method: 'POST',
      body,
      duplex: 'half',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.pro}`, ...ASYNC },
    } as RequestInit);
    expect(res.status).toBe(202);
    const job = await res.json();
    expect((await h.infra.jobs.get(job.id))?.message.prompt).toBe('chunked');
  });
});
