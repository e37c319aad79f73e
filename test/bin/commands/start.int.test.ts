import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../support/free-port.ts';
import { type SpillwayProcess, startSpillway } from '../../support/spillway-process.ts';
import { openaiScenarios } from '../openai-scenarios.ts';
import { asyncRoundTrip, KEYS, stackDirs } from '../stack-fixture.ts';

describe('distributed mode: gateway, controller and inference as separate processes', () => {
  const procs: SpillwayProcess[] = [];
  let url = '';
  let statusUrl = '';
  let workerMetricsUrl = '';

  beforeAll(async () => {
    const { dir, env } = stackDirs();
    const [port, statusPort, metricsPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const shared = {
      ...env,
      // A Redis database of its own: the only stack here with the default policy's controller. On
      // the suite's database, another file's controller (its policy has one lane of its own) could
      // win the leadership and publish an admission state without this stack's lanes: a 429.
      SPILLWAY_REDIS_URL: `${inject('redis').url}/1`,
      SPILLWAY_KAFKA_BROKERS: inject('kafka').brokers,
      SPILLWAY_DATA_DIR: join(dir, 'shared-data'),
      SPILLWAY_WORKER_SLOTS: '2',
    };
    mkdirSync(shared.SPILLWAY_DATA_DIR, { recursive: true });
    procs.push(startSpillway('controller', { ...shared, SPILLWAY_STATUS_PORT: String(statusPort) }));
    procs.push(startSpillway('inference', { ...shared, SPILLWAY_METRICS_PORT: String(metricsPort) }));
    procs.push(startSpillway('gateway', { ...shared, PORT: String(port) }));
    await Promise.all(procs.map((p) => p.waitFor(/started/, 90_000)));
    url = `http://127.0.0.1:${port}`;
    statusUrl = `http://127.0.0.1:${statusPort}`;
    workerMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGTERM')));
  });

  it('runs the async round trip over Kafka and Redis', async () => {
    const r = await asyncRoundTrip(url, KEYS.pro, { prompt: 'a harbour at night', size: '256x256' }, 90_000);
    expect(r.status).toBe(202);
    expect(r.job.status).toBe('completed');
    const data = (r.job.result as { data: { b64_json: string }[] }).data;
    expect(Buffer.from(data[0].b64_json, 'base64').subarray(1, 4).toString()).toBe('PNG');
  });

  describe('the official openai SDK', () => openaiScenarios(() => url));

  it('every process serves /metrics for Prometheus: controller and worker too', async () => {
    const controller = await (await fetch(`${statusUrl}/metrics`)).text();
    expect(controller).toContain('spillway_controller_');
    const worker = await (await fetch(workerMetricsUrl)).text();
    expect(worker).toContain('spillway_worker_');
    expect(worker).toContain('spillway_process_cpu_seconds_total');
    expect((await fetch(`${statusUrl}/status/api/state`)).status).toBe(200);
  });

  it('is ready only with its dependencies (/readyz)', async () => {
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(200);
  });
});
