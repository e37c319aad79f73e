import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DASHBOARD_DIR, generatedFiles } from '../../dashboards/catalog.ts';
import { Dashboard, MIN_SCHEMA_VERSION } from '../../dashboards/grafana-model.ts';
import { metricReferences } from '../../dashboards/metric-references.ts';
import { expandVariables, variablesIn } from '../../dashboards/template-variables.ts';

const committed = () =>
  readdirSync(DASHBOARD_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ file: f, json: JSON.parse(readFileSync(join(DASHBOARD_DIR, f), 'utf8')) }));

const queries = (d: Dashboard) =>
  d.panels.flatMap((p) => (p.type === 'row' ? [] : p.targets.map((t) => t.expr)));

describe('generated dashboards and alerts', () => {
  it('are up to date with their TypeScript sources (run `npx tsx dashboards/generate.ts`)', async () => {
    for (const [path, content] of await generatedFiles()) {
      expect(readFileSync(path, 'utf8'), path).toBe(content);
    }
  });

  it('include an overview and one dashboard per service, each valid against the Grafana model', () => {
    const boards = committed();
    expect(boards.map((b) => b.file).sort()).toEqual([
      'spillway-controller.json',
      'spillway-gateway.json',
      'spillway-inference.json',
      'spillway-overview.json',
    ]);
    for (const { file, json } of boards) {
      const parsed = Dashboard.safeParse(json);
      expect(parsed.success, `${file}: ${parsed.error?.message}`).toBe(true);
      expect(json.schemaVersion).toBeGreaterThanOrEqual(MIN_SCHEMA_VERSION);
      expect(json.uid).toBe(file.replace(/\.json$/, ''));
    }
  });

  it('use only variables the dashboard declares or Grafana provides', () => {
    for (const { file, json } of committed()) {
      const d = Dashboard.parse(json);
      const declared = new Set([
        ...d.templating.list.map((v) => v.name),
        '__rate_interval',
        '__interval',
        '__range',
      ]);
      for (const expr of queries(d)) {
        for (const name of variablesIn(expr))
          expect(declared.has(name), `${file}: $${name} in ${expr}`).toBe(true);
      }
    }
  });

  it('refer only to spillway_ metrics (no typo of a prefix hides a panel)', () => {
    for (const { file, json } of committed()) {
      for (const expr of queries(Dashboard.parse(json))) {
        expect(metricReferences(expr).length, `${file}: ${expr}`).toBeGreaterThan(0);
      }
    }
  });
});

describe('the Grafana model refuses what Grafana would import wrongly', () => {
  const valid = () => structuredClone(committed()[0].json);

  it('an old schema version', () => {
    const d = valid();
    d.schemaVersion = 38;
    expect(Dashboard.safeParse(d).success).toBe(false);
  });

  it('overlapping panels and repeated panel ids', () => {
    const overlap = valid();
    overlap.panels[2].gridPos = { ...overlap.panels[1].gridPos };
    expect(Dashboard.safeParse(overlap).success).toBe(false);
    const repeated = valid();
    repeated.panels[2].id = repeated.panels[1].id;
    expect(Dashboard.safeParse(repeated).success).toBe(false);
  });

  it('a panel wider than the grid, a misspelt field, an unknown panel type', () => {
    const wide = valid();
    wide.panels[1].gridPos.x = 20;
    expect(Dashboard.safeParse(wide).success).toBe(false);
    const typo = valid();
    typo.panels[1].targets[0].exp = typo.panels[1].targets[0].expr;
    delete typo.panels[1].targets[0].expr;
    expect(Dashboard.safeParse(typo).success).toBe(false);
    const unknown = valid();
    unknown.panels[1].type = 'graph';
    expect(Dashboard.safeParse(unknown).success).toBe(false);
  });
});

describe('template variables', () => {
  it('expand in all three Grafana spellings', () => {
    expect(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
      expandVariables('rate(x{lane=~"$lane",tier=~"${tier}",a="[[a]]"}[$__rate_interval])', {
        lane: 'api',
        tier: 'free|pro',
        a: '1',
        __rate_interval: '1m',
      }),
    ).toBe('rate(x{lane=~"api",tier=~"free|pro",a="1"}[1m])');
  });

  it('refuse to leave one unexpanded', () => {
    expect(() => expandVariables('x{lane=~"$lane"}', {})).toThrow(/\$lane/);
  });
});

describe('provisioning', () => {
  it('declares the Prometheus datasource and the folder of generated dashboards', () => {
    const ds = parse(readFileSync('dashboards/grafana/provisioning/datasources/prometheus.yaml', 'utf8'));
    expect(ds.apiVersion).toBe(1);
    expect(ds.datasources).toEqual([expect.objectContaining({ type: 'prometheus', access: 'proxy' })]);
    const boards = parse(readFileSync('dashboards/grafana/provisioning/dashboards/spillway.yaml', 'utf8'));
    expect(boards.apiVersion).toBe(1);
    expect(boards.providers).toEqual([
      expect.objectContaining({ type: 'file', options: expect.any(Object) }),
    ]);
  });
});
