import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCampaign } from '../../loadtests/campaign-schema.ts';
import { runCampaign } from '../../loadtests/runner/campaign-run.ts';
import { ImagesClient } from '../../loadtests/runner/http-client.ts';
import { urlTarget } from '../../loadtests/runner/target.ts';

/**
 * A stand-in target with known behaviour: `free` is refused with a retry-after-ms hint, paid sync
 * generations take `holdMs` (after a stall that blocks everything for `stallMs` once).
 */
function stub(o: { holdMs: number; stallAtMs: number; stallMs: number }) {
  const seen: { tier: string; retry: string; at: number }[] = [];
  const t0 = Date.now();
  let stallUntil = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const key = String(req.headers.authorization ?? '');
      const tier = key.includes('-free-') ? 'free' : 'pro';
      seen.push({ tier, retry: String(req.headers['x-stainless-retry-count']), at: Date.now() - t0 });
      if (tier === 'free') {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after-ms': '200' });
        res.end(
          JSON.stringify({
            error: { message: 'busy', type: 'rate_limit_error', param: null, code: 'capacity_exceeded' },
          }),
        );
        return;
      }
      const now = Date.now() - t0;
      if (stallUntil === 0 && now >= o.stallAtMs) stallUntil = Date.now() + o.stallMs;
      const wait = Math.max(o.holdMs, stallUntil - Date.now());
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ created: 1, data: [{ b64_json: 'AA==' }], prompt: body.length }));
      }, wait);
    });
  });
  return { server, seen };
}

describe('open-model runner against a known target', () => {
  const s = stub({ holdMs: 20, stallAtMs: 1500, stallMs: 1000 });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => s.server.close(() => r())));

  it('keeps sending on schedule while the target stalls, counts the stall in latency, and retries like the SDK', async () => {
    const campaign = parseCampaign({
      name: 'stub',
      seed: 5,
      mix: [
        { lane: 'chat', tier: 'pro', weight: 3 },
        { lane: 'chat', tier: 'free', weight: 1 },
      ],
      stages: [{ name: 'flat', duration: '4s', rate: 40 }],
      client: { giveUpAfter: '10s', connections: 256 },
    });
    const keys = ['pro', 'free'].flatMap((tier) =>
      [0, 1, 2].map((i) => ({ key: `sk-test-chat-${tier}-${i}`, tier, lane: 'chat' })),
    );
    const client = new ImagesClient(url, 256, new Uint8Array([1, 2, 3]));
    const run = await runCampaign({ campaign, target: urlTarget(url), client, keys, unit: 1 });
    await client.close();

    const pro = run.totals['chat/pro'];
    const free = run.totals['chat/free'];
    // Open model: the stall did not slow the arrivals — every second got its share.
    const perSecond = run.buckets.slice(0, 4).map((b) => b.byKey['chat/pro']?.offered ?? 0);
    expect(Math.min(...perSecond) / Math.max(...perSecond)).toBeGreaterThan(0.5);
    expect(pro.completed).toBe(pro.offered);
    // No coordinated omission: requests scheduled during the 1 s stall waited for it, so the p99
    // is many times the normal service time measured in the same run.
    const lat = run.latencyByTier.pro;
    expect(lat.p99 / lat.p50).toBeGreaterThan(5);
    // SDK-like: every refused free request was tried 3 times (2 retries), with the retry count sent.
    expect(free.attempts).toBe(free.offered * 3);
    expect(free.completed).toBe(0);
    const retries = new Set(s.seen.filter((x) => x.tier === 'free').map((x) => x.retry));
    expect([...retries].sort()).toEqual(['0', '1', '2']);
    expect(run.refusalOverall.count).toBe(free.attempts);
  });
});
