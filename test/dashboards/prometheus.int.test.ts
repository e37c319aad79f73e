import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedStack } from '../../bin/commands/start.ts';
import { loadPolicyDir } from '../../common/policy/loader.ts';
import { ALERTS_FILE, currentAlertRules, DASHBOARD_DIR } from '../../dashboards/catalog.ts';
import { Dashboard } from '../../dashboards/grafana-model.ts';
import { exposedMetrics, metricReferences } from '../../dashboards/metric-references.ts';
import { expandVariables } from '../../dashboards/template-variables.ts';
import { stackDirs } from '../bin/stack-fixture.ts';
import { type CampaignResult, runCampaign } from './support/campaign.ts';
import { type PrometheusServer, type PromSample, startPrometheus } from './support/prometheus-server.ts';

/**
 * Every dashboard panel and every alert rule, evaluated by a real Prometheus that scraped the
 * embedded stack (1 s interval) through a short campaign of paid and free traffic.
 */
let stack: Awaited<ReturnType<typeof startEmbeddedStack>>;
let prometheus: PrometheusServer;
let campaign: CampaignResult;
let exposition: string;
let variables: Record<string, string>;

async function eventually<T>(what: string, probe: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const scalar = async (expr: string) => {
  const r = await prometheus.query(expr);
  return r.length ? Number(r[0].value[1]) : Number.NaN;
};

beforeAll(async () => {
  const { env } = stackDirs();
  stack = await startEmbeddedStack({ env: { ...env, SPILLWAY_WORKER_SLOTS: '1' }, port: 0 });
  prometheus = await startPrometheus(`127.0.0.1:${stack.port}`, [ALERTS_FILE]);
  // Scrapes before the traffic, so counters are seen rising rather than appearing.
  await eventually(
    'a first scrape',
    async () => ((await scalar('up{job="spillway"}')) === 1 ? true : null),
    20_000,
  );
  campaign = await runCampaign(stack.url, 2500);
  exposition = await (await fetch(`${stack.url}/metrics`)).text();
  const finished = Object.entries(campaign.finals)
    .filter(([s]) => s !== 'cancelled')
    .reduce((a, [, n]) => a + n, 0);
  // Waits until Prometheus holds the campaign's final counts, then for a few more scrapes and rule runs.
  await eventually(
    'the campaign in Prometheus',
    async () => ((await scalar('sum(spillway_worker_jobs_total)')) >= finished ? true : null),
    20_000,
  );
  await new Promise((r) => setTimeout(r, 3000));
  const policy = (await loadPolicyDir('policies')).policy;
  variables = {
    lane: Object.keys(policy.lanes).join('|'),
    tier: Object.keys(policy.tiers).join('|'),
    datasource: 'spillway-prometheus',
    __rate_interval: '1m',
    __interval: '1s',
    __range: '5m',
  };
}, 120_000);

afterAll(async () => {
  await prometheus?.stop();
  await stack?.close();
});

const dashboards = () =>
  readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => Dashboard.parse(JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8'))));

const allNaN = (r: PromSample[]) => r.every((s) => Number.isNaN(Number(s.value[1])));

describe('dashboards and alerts against a real Prometheus', () => {
  it('ran a campaign with admitted, refused, streamed, completed and cancelled work', () => {
    expect(campaign.admitted).toBeGreaterThan(0);
    expect(campaign.refused).toBeGreaterThan(0);
    expect(campaign.streamed).toBe(4);
    expect(campaign.finals.cancelled).toBeGreaterThan(0);
    expect(campaign.finals.completed).toBeGreaterThan(0);
  });

  it('every panel refers only to metrics the services export', () => {
    const { declared } = exposedMetrics(exposition);
    const missing = dashboards().flatMap((d) =>
      d.panels.flatMap((p) =>
        p.type === 'row'
          ? []
          : p.targets.flatMap((t) =>
              metricReferences(t.expr)
                .filter((m) => !declared.has(m))
                .map((m) => `${d.uid} / ${p.title}: ${m}`),
            ),
      ),
    );
    expect(missing).toEqual([]);
  });

  it('every panel query evaluates without error and returns data', async () => {
    const problems: string[] = [];
    let evaluated = 0;
    for (const d of dashboards()) {
      for (const p of d.panels) {
        if (p.type === 'row') continue;
        for (const t of p.targets) {
          const expr = expandVariables(t.expr, variables);
          evaluated++;
          try {
            const result = await prometheus.query(expr);
            if (result.length === 0) problems.push(`${d.uid} / ${p.title} [${t.refId}]: no data for ${expr}`);
            else if (allNaN(result))
              problems.push(`${d.uid} / ${p.title} [${t.refId}]: only NaN for ${expr}`);
          } catch (err) {
            problems.push(`${d.uid} / ${p.title} [${t.refId}]: ${(err as Error).message}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(evaluated).toBeGreaterThan(40);
  });

  it('every alert rule evaluates without error and watches a signal that has data', async () => {
    const rules = await currentAlertRules();
    const problems: string[] = [];
    for (const r of rules) {
      try {
        await prometheus.query(r.expr);
        if ((await prometheus.query(r.signal)).length === 0)
          problems.push(`${r.alert}: no data for ${r.signal}`);
      } catch (err) {
        problems.push(`${r.alert}: ${(err as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
    const loaded = await prometheus.rules();
    expect(loaded.map((r) => r.name).sort()).toEqual(rules.map((r) => r.alert).sort());
    expect(loaded.filter((r) => r.health !== 'ok')).toEqual([]);
  });

  it('the campaign trips no alert about leadership, signals, dead letters or paid refusals', async () => {
    // A burst into one slot may rightly make lanes without capacity expect waits over their maximum.
    const tripped = (await prometheus.query('ALERTS')).map((s) => s.metric.alertname);
    expect(tripped.filter((name) => name !== 'SpillwayExpectedWaitOverMax')).toEqual([]);
  });
});
