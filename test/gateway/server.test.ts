import { describe, expect, it } from 'vitest';
import { startHarness } from './support/harness.ts';

// serveGateway counts requests in flight around the app's fetch so close() can drain them.

describe('serveGateway close()', () => {
  it('lets a request in flight finish before it resolves, and answers it', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let entered!: () => void;
    const inside = new Promise<void>((r) => {
      entered = r;
    });
    const h = await startHarness({
      serve: true,
      extraRoutes: (app) =>
        app.get('/slow', async (c) => {
          entered();
          await released;
          return c.text('done');
        }),
    });
    const answer = fetch(`${h.url}/slow`);
    await inside;
    let closed = false;
    const closing = h.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(closed).toBe(false);
    release();
    const res = await answer;
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('done');
    await closing;
    expect(closed).toBe(true);
  });

  it('counts a failed request as finished: close() does not wait out the drain', async () => {
    const h = await startHarness({
      serve: true,
      extraRoutes: (app) =>
        app.get('/boom', async () => {
          throw new Error('boom');
        }),
    });
    const res = await fetch(`${h.url}/boom`);
    expect(res.status).toBe(500);
    const started = performance.now();
    await h.close();
    // The drain lasts 5 s when a request is still counted; a ratio to that, not a wall-clock limit.
    expect((performance.now() - started) / 5000).toBeLessThan(0.5);
  });
});
