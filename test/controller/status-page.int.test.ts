import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../common/log.ts';
import { createMemoryInfra } from '../../common/memory-infra.ts';
import { StaticPolicySource } from '../../common/policy/policy-source.ts';
import { openAdmissionState } from '../../bin/open-admission.ts';
import { HANDOVER_VERSION } from '../../controller/handover.ts';
import { startController } from '../../controller/service.ts';
import { emptyMemory, testPolicy } from './scenario.ts';

/**
 * The status page in a real headless Chromium, against an in-process controller fed with
 * changing memory-infra signals (a fake worker and gateway reporting every 200 ms).
 */
describe('status page', () => {
  const infra = createMemoryInfra();
  // With a warning, as a policy whose override a later base file undoes would load.
  const warning = {
    file: 'policies/50-launch.yaml',
    line: 3,
    column: 14,
    rule: 'shadowed-file',
    message: 'no effect: every value it sets is replaced by policies/policy.yaml',
    path: 'tiers.free.maxWait',
  };
  const policy = new StaticPolicySource({
    ...testPolicy('gradient', { control: { law: 'gradient', interval: '200ms' } }),
    warnings: [warning],
  });
  let controller: Awaited<ReturnType<typeof startController>>;
  let server: ReturnType<typeof serve>;
  let feeder: NodeJS.Timeout;
  let url = '';

  beforeAll(async () => {
    // A predecessor (epoch 0) handed over its memory: the page says this leader carried on from it.
    const at = Date.now();
    await infra.coord.publishAdmission(openAdmissionState(policy, 1, at), {
      v: HANDOVER_VERSION,
      epoch: 0,
      at,
      memory: emptyMemory(at, 'gradient') as unknown as Record<string, unknown>,
    });
    controller = await startController({
      infra,
      policy,
      log: createLogger('status-test', 'silent'),
      id: 'ctl-status',
    });
    let cost = 0;
    let offered = 0;
    let tick = 0;
    feeder = setInterval(() => {
      tick++;
      const now = Date.now();
      cost += 10 + (tick % 5);
      offered += 40;
      void infra.coord.reportSignal(
        {
          source: 'worker',
          id: 'w1',
          at: now,
          lanes: ['chat', 'api'],
          slotsBusy: 2,
          slotsTotal: 2,
          passLatencyEwmaMs: 120 + (tick % 7) * 10,
          passLatencyP95Ms: 200,
          baselinePassMs: 100,
          jobsStarted: Math.floor(cost),
          jobsFinished: Math.floor(cost),
          jobsAborted: 0,
          costFinished: cost,
          oldestJobAgeMs: 0,
          blobWriteMs: 20,
          storeLatencyMs: 3,
        },
        5000,
      );
      void infra.coord.reportSignal(
        {
          source: 'gateway',
          id: 'g1',
          at: now,
          authLatencyMs: 20 + (tick % 10) * 5,
          authErrorRate: 0,
          authCacheHitRate: 0.9,
          storeLatencyMs: 3,
          offered: { 'chat/free': offered, 'chat/pro': offered / 10 },
          admitted: { 'chat/free': offered / 4, 'chat/pro': offered / 10 },
          shed: { 'chat/free': (offered * 3) / 4 },
          signups: tick,
        },
        5000,
      );
      void infra.jobs.nextTicket('chat', 'free');
    }, 200);
    const app = new Hono();
    app.route('/status', controller.app);
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/status`;
  });

  afterAll(async () => {
    clearInterval(feeder);
    await controller.close();
    await new Promise((r) => server.close(r));
  });

  it('renders the admission, the signals and live uPlot charts', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(url);
      await page.waitForFunction(
        () => {
          const charts = Object.values(
            (window as unknown as { __charts: Record<string, { data: unknown[][] }> }).__charts,
          );
          return charts.length === 3 && charts.every((c) => c.data[0].length >= 5);
        },
        undefined,
        { timeout: 30_000 },
      );
      const summary = await page.textContent('#summary');
      expect(summary).toContain('leader');
      expect(summary).toContain(policy.current().version);
      expect(summary).toMatch(/resumed epoch 0's memory \(\d+\.\d s old\)/);
      const shown = page.locator('#summary .async-only');
      expect(await shown.textContent()).toBe(
        'warning: policies/50-launch.yaml:3:14: shadowed-file: no effect: every value it sets is replaced by policies/policy.yaml',
      );
      const table = await page.textContent('#admission');
      expect(table).toContain('chat/free');
      expect(await page.locator('canvas').count()).toBeGreaterThanOrEqual(3);
      const signals = await page.textContent('#signals');
      expect(signals).toMatch(/auth/);
      expect(errors).toEqual([]);
      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: 'test-results/status-page.png', fullPage: true });
      const api = (await (await fetch(`${url}/api/state`)).json()) as {
        history: unknown[];
        state: { version: number };
      };
      expect(api.history.length).toBeGreaterThanOrEqual(5);
      expect(api.state.version).toBeGreaterThan(1);
    } finally {
      await browser.close();
    }
  });
});
