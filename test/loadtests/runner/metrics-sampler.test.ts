import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsSampler } from '../../../loadtests/runner/metrics-sampler.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A /metrics endpoint that counts its scrapes and keeps the last URL asked for. */
async function endpoint(text: string): Promise<{ url: string; hits: () => number; asked: () => string }> {
  let hits = 0;
  let asked = '';
  const server = createServer((req, res) => {
    hits++;
    asked = req.url ?? '';
    res.end(text);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`,
    hits: () => hits,
    asked: () => asked,
  };
}

const GATEWAY = 'spillway_process_cpu_seconds_total 2.5\nspillway_nodejs_eventloop_lag_p99_seconds 0.004\n';
const WORKER = 'spillway_worker_slots_busy 1\nspillway_worker_slot_busy_seconds_total 7\n';

describe('metrics sampler', () => {
  it('scrapes a distributed gateway only every fourth round, and the workers every round', async () => {
    const gateway = await endpoint(GATEWAY);
    const workers = [await endpoint(WORKER), await endpoint(WORKER)];
    const sampler = new MetricsSampler(() => [gateway.url, ...workers.map((w) => w.url)], 0);
    for (let i = 0; i < 8; i++) await sampler.sample();
    expect(gateway.hits()).toBe(2);
    for (const w of workers) expect(w.hits()).toBe(8);
    expect(sampler.samples).toHaveLength(8);
    expect(sampler.samples.every((s) => s.slotBusySeconds === 14)).toBe(true);
    const withGateway = sampler.samples.filter((s) => s.cpuSeconds !== null);
    expect(withGateway.map((s) => s.cpuSeconds)).toEqual([2.5, 2.5]);
    expect(withGateway[0].loopLagP99Ms).toBeCloseTo(4);
  });

  it('scrapes an embedded stack (workers in the gateway process) every round', async () => {
    const stack = await endpoint(GATEWAY + WORKER);
    const sampler = new MetricsSampler(() => [stack.url], 0);
    for (let i = 0; i < 5; i++) await sampler.sample();
    expect(stack.hits()).toBe(5);
    expect(sampler.samples.every((s) => s.slotBusySeconds === 7 && s.cpuSeconds === 2.5)).toBe(true);
  });

  it('asks only for the families it reads, the lag family (whose collector sets p99 and max) first', async () => {
    const stack = await endpoint(GATEWAY + WORKER);
    await new MetricsSampler(() => [stack.url], 0).sample();
    const names = new URL(stack.asked(), 'http://x').searchParams.getAll('name[]');
    expect(names[0]).toBe('spillway_nodejs_eventloop_lag_seconds');
    expect(names.slice(1).sort()).toEqual(
      [
        'spillway_nodejs_eventloop_lag_max_seconds',
        'spillway_nodejs_eventloop_lag_p99_seconds',
        'spillway_process_cpu_seconds_total',
        'spillway_worker_slot_busy_seconds_total',
        'spillway_worker_slots_busy',
      ].sort(),
    );
  });
});
