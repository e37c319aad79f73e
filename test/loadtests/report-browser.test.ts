import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { loadPolicyDir } from '../../common/policy/loader.ts';
import { parseCampaign } from '../../loadtests/campaign-schema.ts';
import { buildReport, writeReport } from '../../loadtests/runner/report.ts';
import { writeSimReport } from '../../loadtests/simulator/sim-report.ts';
import { simulateCampaign } from '../../loadtests/simulator/simulate.ts';
import type { RunResult } from '../../loadtests/runner/campaign-run.ts';
import { Recorder } from '../../loadtests/runner/recorder.ts';

const campaign = parseCampaign({
  name: 'report-check',
  rateUnit: 'capacity',
  mix: [
    { lane: 'chat', tier: 'pro', weight: 1 },
    { lane: 'chat', tier: 'free', weight: 4 },
  ],
  stages: [
    { name: 'calm', duration: '2m', rate: 0.5 },
    { name: 'spike', duration: '2m', rate: 3 },
  ],
  expect: { paidSuccess: 0.99 },
  simulation: { capacity: 100, workers: 2, gateways: 1, passMs: 500 },
});

/** A runner result recorded through the real Recorder (not a literal), for the runner's page. */
function recordedRun(): RunResult {
  const rec = new Recorder();
  for (let s = 0; s < 10; s++) {
    for (let i = 0; i < 10; i++) {
      rec.count(s * 1000 + i, 'chat/pro', 'offered');
      rec.count(s * 1000 + i, 'chat/pro', 'admitted');
      rec.completed(s * 1000 + 500 + i, 'chat/pro', 100 + 10 * i);
      rec.count(s * 1000 + i, 'chat/free', 'offered');
      rec.refused(s * 1000 + i, 'chat/free', 1 + i / 10, 'capacity_exceeded');
    }
  }
  return {
    label: 'recorded',
    campaign: campaign.name,
    startedAt: new Date().toISOString(),
    durationMs: 10_000,
    unit: 10,
    buckets: rec.buckets,
    totals: rec.totals(),
    latencyByTier: rec.latencyByTier(),
    refusalByTier: rec.refusalByTier(),
    refusalOverall: rec.refusalOverall(),
    shedCodes: rec.shedCodes,
    status: [],
    statusAvailable: false,
    metrics: [],
    slots: null,
    endings: rec.endings,
    generatorCpuMs: 0,
    generatorLoopLag: { p99: 0, max: 0 },
    faults: [],
    floor: [],
    senderLagMs: 0,
    stages: [],
  };
}

async function openAndShoot(file: string, shot: string): Promise<{ charts: number; title: string }> {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href);
    await page.waitForFunction(() => document.body.dataset.charts !== undefined);
    await page.screenshot({ path: shot, fullPage: true });
    expect(errors).toEqual([]);
    return {
      charts: Number(await page.evaluate(() => document.body.dataset.charts)),
      title: await page.title(),
    };
  } finally {
    await browser.close();
  }
}

describe('reports open in headless Chromium', () => {
  it('renders the simulator report with its plots, offline', async () => {
    await mkdir('test-results', { recursive: true });
    const out = await mkdtemp(join(tmpdir(), 'spillway-report-'));
    const policy = await loadPolicyDir('policies');
    const results = (['on', 'off'] as const).map((controller) =>
      simulateCampaign(campaign, policy, { controller }),
    );
    const { html } = await writeSimReport(results, out);
    const page = await openAndShoot(html, 'test-results/loadtests-simulator-report.png');
    expect(page.title).toContain('report-check');
    expect(page.charts).toBe(results.reduce((n, r) => n + Object.keys(r.series.offered).length + 3, 0));
  }, 60_000);

  it('renders the load-test report with its plots, offline', async () => {
    const out = await mkdtemp(join(tmpdir(), 'spillway-report-'));
    const report = buildReport(campaign, [recordedRun()], 10);
    const { html } = await writeReport(report, out);
    const page = await openAndShoot(html, 'test-results/loadtests-runner-report.png');
    expect(page.charts).toBeGreaterThanOrEqual(3);
    expect(report.runs[0].checks[0].name).toBe('paid success');
  }, 60_000);
});
