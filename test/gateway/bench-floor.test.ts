import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ioFloorApp } from '../../gateway/bench-floor.ts';
import { BENCH_REQUEST } from '../../gateway/bench-server.ts';
import { type Harness, startHarness } from './support/harness.ts';

describe('the bench’s I/O floor', () => {
  let h: Harness;
  let floor: ReturnType<typeof ioFloorApp>;
  const account = {
    id: 'acct_floor',
    tier: 'pro',
    lane: 'chat',
    createdAt: 0,
    source: 'admin' as const,
    disabled: false,
  };
  const post = () =>
    floor.request(BENCH_REQUEST.path, {
      method: 'POST',
      headers: BENCH_REQUEST.headers,
      body: BENCH_REQUEST.body,
    });

  beforeAll(async () => {
    // Two requests per two-minute window for pro, so the third shows the limit is counted.
    h = await startHarness({ policy: { tiers: { pro: { rateLimit: '1/min', burst: 2 } } } });
    floor = ioFloorApp(h.infra, h.policy.current().policy, account, BENCH_REQUEST.path, BENCH_REQUEST.body);
  });

  afterAll(async () => {
    await h.close();
  });

  it('does the admitted path’s store and queue work: a queued record, a ticket and a message per request', async () => {
    const res = await post();
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };
    const record = await h.infra.jobs.get(id);
    expect(record).toMatchObject({ account: 'acct_floor', tier: 'pro', lane: 'chat', state: 'queued' });
    expect(record?.message.params.size).toBe('1024x1024');
    expect(await h.published()).toBe(1);
    expect(await h.tickets()).toBe(1);
  });

  it('counts the account’s rate limit, and a refused request enqueues nothing', async () => {
    expect((await post()).status).toBe(202);
    expect((await post()).status).toBe(429);
    expect(await h.published()).toBe(2);
    expect(await h.tickets()).toBe(2);
  });
});
