import { afterEach, describe, expect, it } from 'vitest';
import type { JobMessage } from '../../common/contracts/index.ts';
import { type Harness, jsonInit, KEYS, startHarness } from './support/harness.ts';

const ASYNC = { prefer: 'respond-async' };

async function readSse(res: Response, until: (events: { type: string }[]) => boolean) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: ({ type: string } & Record<string, unknown>)[] = [];
  let buf = '';
  const raw: string[] = [];
  while (!until(events)) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i = buf.indexOf('\n\n');
    while (i >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      raw.push(block);
      const data = block.split('\n').find((l) => l.startsWith('data: '));
      const event = block.split('\n').find((l) => l.startsWith('event: '));
      if (data) {
        const parsed = JSON.parse(data.slice(6));
        if (event) expect(event.slice(7)).toBe(parsed.type);
        events.push(parsed);
      }
      i = buf.indexOf('\n\n');
    }
  }
  await reader.cancel();
  return { events, raw };
}

describe('async jobs', () => {
  let h: Harness;
  afterEach(() => h?.close());

  it('answers 202 + Location, shows position, streams events, and keeps jobs private', async () => {
    h = await startHarness({ worker: true });
    h.worker!.pause();
    const first = await h.request(
      '/v1/images/generations',
      jsonInit({ prompt: 'a', stream: false, partial_images: 0 }, KEYS.free, ASYNC),
    );
    expect(first.status).toBe(202);
    expect(first.headers.get('preference-applied')).toBe('respond-async');
    expect(first.headers.get('vary')).toContain('Prefer');
    const second = await h.request('/v1/images/generations', jsonInit({ prompt: 'b' }, KEYS.free, ASYNC));
    const location = second.headers.get('location')!;
    expect(location).toMatch(/^\/v1\/images\/jobs\/job_[A-Za-z0-9]{24}$/);
    // A pro job queued later is ahead of free jobs: it counts in the free job's position.
    await h.request('/v1/images/generations', jsonInit({ prompt: 'c' }, KEYS.pro, ASYNC));
    const view = await (await h.request(location, { key: KEYS.free })).json();
    expect(view).toMatchObject({
      object: 'image.job',
      status: 'queued',
      queue_position: 3,
      tier: 'free',
      lane: 'chat',
    });
    expect(view.estimated_wait_ms).not.toBeNull();

    // Another account (same tier) cannot see it: 404, not 403.
    const other = await h.request(location, { key: KEYS.free2 });
    expect(other.status).toBe(404);
    expect((await other.json()).error.code).toBe('job_not_found');
    expect((await h.request(`${location}/events`, { key: KEYS.free2 })).status).toBe(404);
    expect((await h.request(location, { method: 'DELETE', key: KEYS.free2 })).status).toBe(404);

    const events = await h.request(`${location}/events`, { key: KEYS.free });
    expect(events.headers.get('content-type')).toContain('text/event-stream');
    h.worker!.resume();
    const { events: got } = await readSse(events, (e) => e.some((x) => x.type === 'job.completed'));
    expect(got[0]).toMatchObject({ type: 'job.queued', queue_position: 3 });
    expect(got.some((e) => e.type === 'job.running' && e.pass === 1)).toBe(true);
    const done = got.find((e) => e.type === 'job.completed') as unknown as { result: { data: unknown[] } };
    expect(done.result.data).toHaveLength(1);
    const final = await (await h.request(location, { key: KEYS.free })).json();
    expect(final.status).toBe('completed');
    expect(final.result.data[0].b64_json).toBeTruthy();
  });

  it('cancels a queued job: the worker never runs it and followers see the terminal event', async () => {
    h = await startHarness({ worker: true });
    h.worker!.pause();
    const res = await h.request('/v1/images/generations', jsonInit({ prompt: 'a' }, KEYS.pro, ASYNC));
    const location = res.headers.get('location')!;
    const events = await h.request(`${location}/events`, { key: KEYS.pro });
    const del = await h.request(location, { method: 'DELETE', key: KEYS.pro });
    expect(del.status).toBe(200);
    expect((await del.json()).status).toBe('cancelled');
    const { events: got } = await readSse(events, (e) => e.some((x) => x.type === 'job.cancelled'));
    expect(got.at(-1)?.type).toBe('job.cancelled');
    h.worker!.resume();
    await new Promise((r) => setTimeout(r, 50));
    expect(h.worker!.seen).toHaveLength(1);
    expect(h.worker!.ran).toHaveLength(0);
    const again = await h.request(location, { method: 'DELETE', key: KEYS.pro });
    expect(again.status).toBe(409);
  });

  it('respond-async, wait=N answers with the result when the job finishes in time', async () => {
    h = await startHarness({ worker: true });
    const res = await h.request(
      '/v1/images/generations',
      jsonInit({ prompt: 'a' }, KEYS.pro, { prefer: 'respond-async, wait=10' }),
    );
    expect(res.status).toBe(200);
    expect((await res.json()).data).toHaveLength(1);
    h.worker!.pause();
    const slow = await h.request(
      '/v1/images/generations',
      jsonInit({ prompt: 'a' }, KEYS.pro, { prefer: 'respond-async, wait=1' }),
    );
    expect(slow.status).toBe(202);
  });

  it('returns the same job for a repeated Idempotency-Key, per account, and publishes once', async () => {
    h = await startHarness({ worker: true });
    h.worker!.pause();
    const headers = { ...ASYNC, 'idempotency-key': 'abc-123' };
    const a = await h.request('/v1/images/generations', jsonInit({ prompt: 'a' }, KEYS.pro, headers));
    const b = await h.request(
      '/v1/images/generations',
      jsonInit({ prompt: 'a' }, KEYS.pro, { ...headers, 'x-stainless-retry-count': '1' }),
    );
    expect(b.headers.get('location')).toBe(a.headers.get('location'));
    const c = await h.request('/v1/images/generations', jsonInit({ prompt: 'a' }, KEYS.plus, headers));
    expect(c.headers.get('location')).not.toBe(a.headers.get('location'));
    expect(await h.published()).toBe(2);
  });

  it('fails the record and answers 503 with retry hints when the publish fails', async () => {
    h = await startHarness();
    h.infra.queue.publish = async () => {
      throw new Error('broker down');
    };
    const res = await h.request('/v1/images/generations', jsonInit({ prompt: 'a' }, KEYS.pro, ASYNC));
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after-ms'))).toBeGreaterThan(0);
    expect((await res.json()).error.code).toBe('queue_unavailable');
    const stats = await h.infra.jobs.queueStats();
    expect(stats.reduce((a, s) => a + s.issued, 0)).toBe(1);
  });

  it('carries the caller’s traceparent to the job message and back, and sets deadline, cost and brownout', async () => {
    h = await startHarness({
      worker: true,
      admission: { free: { brownout: { level: 2, passes: 2, partialImages: 0 } } },
    });
    h.worker!.pause();
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const res = await h.request(
      '/v1/images/generations',
      jsonInit({ prompt: 'a', size: '1536x1024', n: 2 }, KEYS.free, { ...ASYNC, traceparent }),
    );
    expect(res.status).toBe(202);
    const back = res.headers.get('traceparent')!;
    expect(back).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[\da-f]{16}-01$/);
    h.worker!.resume();
    await new Promise((r) => setTimeout(r, 50));
    const m = h.worker!.seen[0] as JobMessage;
    expect(m.trace.traceparent).toBe(back);
    expect(m.id).toMatch(/^job_[A-Za-z0-9]{24}$/);
    expect(m.cost).toBeCloseTo(2 * 1.5);
    expect(m.brownout).toMatchObject({ level: 2, passes: 2 });
    expect(m.deadline - m.createdAt).toBe(h.policy.current().policy.tiers.free.maxWait);
    expect(m.attempt).toBe(0);
    const untraced = await h.request('/healthz');
    expect(untraced.headers.get('traceparent')).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-01$/);
  });
});
