import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, jsonInit, KEYS, startHarness, testPolicy } from './support/harness.ts';

describe('policy hot reload', () => {
  let h: Harness;
  afterEach(() => h?.close());

  it('a changed tier rate limit changes the 429s at once and drops no request in flight', async () => {
    h = await startHarness({
      worker: { passDelayMs: 30 },
      policy: { tiers: { free: { rateLimit: '600/min', burst: 100 } } },
    });
    const send = () =>
      h.request('/v1/images/generations', jsonInit({ prompt: 'a' }, KEYS.free, { prefer: 'respond-async' }));
    // A sync request that will still be in flight when the policy changes.
    const inflight = h.request('/v1/images/generations', jsonInit({ prompt: 'held' }, KEYS.free));
    for (let i = 0; i < 5; i++) expect((await send()).status).toBe(202);

    h.policy.set(await testPolicy({ tiers: { free: { rateLimit: '6/min', burst: 2 } } }));
    // Six requests already counted against a new allowance of two: the very next one is refused.
    const after = await send();
    expect(after.status).toBe(429);
    expect(after.headers.get('x-ratelimit-limit-requests')).toBe('2');

    const held = await inflight;
    expect(held.status).toBe(200);
    expect((await held.json()).data).toHaveLength(1);

    h.policy.set(await testPolicy({ tiers: { free: { rateLimit: '6000/min', burst: 1000 } } }));
    expect((await send()).status).toBe(202);
  });
});
