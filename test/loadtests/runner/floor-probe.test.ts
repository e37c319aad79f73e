import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { FloorProbe } from '../../../loadtests/runner/floor-probe.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** /healthz answering after `delayMs` (every `failEvery`-th one with a 503). */
async function target(delayMs: number, failEvery = 0): Promise<string> {
  let n = 0;
  const server = createServer((req, res) => {
    n++;
    const status = failEvery > 0 && n % failEvery === 0 ? 503 : 200;
    setTimeout(() => {
      res.statusCode = req.url === '/healthz' ? status : 404;
      res.end('{}');
    }, delayMs);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('FloorProbe', () => {
  it('times health checks sent on a clock, without waiting for slow answers, and keeps only 200s', async () => {
    const t0 = performance.now();
    // Answers take 60 ms, checks go every 10 ms: a probe that waited would send about 5.
    const probe = new FloorProbe(await target(60, 4), t0);
    probe.start(10);
    await new Promise((r) => setTimeout(r, 300));
    await probe.stop();
    expect(probe.samples.length).toBeGreaterThan(12);
    for (const s of probe.samples) {
      expect(s.ms).toBeGreaterThanOrEqual(55);
      expect(s.t).toBeGreaterThanOrEqual(0);
    }
    const sent = probe.samples.length;
    await new Promise((r) => setTimeout(r, 50));
    expect(probe.samples.length).toBe(sent);
  });

  it('records nothing from a target without /healthz', async () => {
    const probe = new FloorProbe(await target(0), performance.now(), '/nothing-here');
    probe.start(10);
    await new Promise((r) => setTimeout(r, 100));
    await probe.stop();
    expect(probe.samples).toEqual([]);
  });
});
