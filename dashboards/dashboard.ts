import type { Dashboard, Panel, Variable } from './grafana-model.ts';
import type { Item, PanelSpec } from './panel.ts';

/** Grafana dashboard JSON model version the dashboards are written for (Grafana 11.0+). */
export const SCHEMA_VERSION = 39;

/** Panels query whichever Prometheus the `datasource` variable names (the provisioned one by default). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template.
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' } as const;

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  /** Lane and tier pickers (multi-select, "All" by default) for `$lane` / `$tier` in queries. */
  laneTierVariables: boolean;
  items: Item[];
}

/** Lays out the items on Grafana's 24-column grid, left to right, wrapping, rows full width. */
export function buildDashboard(spec: DashboardSpec): Dashboard {
  const panels: Panel[] = [];
  let x = 0;
  let y = 0;
  let lineHeight = 0;
  const newline = () => {
    y += lineHeight;
    x = 0;
    lineHeight = 0;
  };
  for (const item of spec.items) {
    const id = panels.length + 1;
    if (item.kind === 'row') {
      if (x > 0) newline();
      panels.push({
        id,
        type: 'row',
        title: item.title,
        collapsed: false,
        panels: [],
        gridPos: { h: 1, w: 24, x: 0, y },
      });
      y += 1;
      continue;
    }
    const w = item.width ?? (item.kind === 'stat' ? 6 : 12);
    const h = item.height ?? (item.kind === 'stat' ? 4 : 8);
    if (x + w > 24) newline();
    const gridPos = { h, w, x, y };
    x += w;
    lineHeight = Math.max(lineHeight, h);
    panels.push(item.kind === 'stat' ? statPanel(id, item, gridPos) : timeseriesPanel(id, item, gridPos));
  }
  return {
    uid: spec.uid,
    title: spec.title,
    description: spec.description,
    tags: ['spillway', ...spec.tags],
    schemaVersion: SCHEMA_VERSION,
    version: 1,
    editable: true,
    graphTooltip: 1,
    fiscalYearStartMonth: 0,
    liveNow: false,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    weekStart: '',
    links: [],
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    templating: { list: variables(spec.laneTierVariables) },
    panels,
  };
}

type GridPos = { h: number; w: number; x: number; y: number };

function fieldConfig(spec: PanelSpec) {
  return {
    defaults: {
      ...(spec.unit ? { unit: spec.unit } : {}),
      ...(spec.min !== undefined ? { min: spec.min } : {}),
      ...(spec.max !== undefined ? { max: spec.max } : {}),
      color: { mode: coloured(spec) ? 'thresholds' : 'palette-classic' },
      thresholds: { mode: 'absolute' as const, steps: thresholdSteps(spec) },
    },
    overrides: [],
  };
}

function coloured(spec: PanelSpec): boolean {
  return spec.redAt !== undefined || spec.greenAt !== undefined;
}

function thresholdSteps(spec: PanelSpec): { color: string; value: number | null }[] {
  if (spec.greenAt !== undefined)
    return [
      { color: 'red', value: null },
      { color: 'green', value: spec.greenAt },
    ];
  if (spec.redAt !== undefined)
    return [
      { color: 'green', value: null },
      { color: 'red', value: spec.redAt },
    ];
  return [{ color: 'green', value: null }];
}

function targets(spec: PanelSpec) {
  return spec.queries.map((q, i) => ({
    datasource: DATASOURCE,
    refId: String.fromCharCode(65 + i),
    expr: q.expr,
    ...(q.legend ? { legendFormat: q.legend } : {}),
    editorMode: 'code' as const,
    range: true,
  }));
}

function timeseriesPanel(id: number, spec: PanelSpec, gridPos: GridPos): Panel {
  const config = fieldConfig(spec);
  if (coloured(spec)) {
    // A dashed red line at the target, while the series keep their own colours.
    config.defaults.color = { mode: 'palette-classic' };
    Object.assign(config.defaults, { custom: { thresholdsStyle: { mode: 'dashed' } } });
  }
  return {
    id,
    type: 'timeseries',
    title: spec.title,
    description: spec.description,
    gridPos,
    datasource: DATASOURCE,
    targets: targets(spec),
    fieldConfig: config,
    options: {
      legend: { showLegend: true, displayMode: 'list', placement: 'bottom', calcs: [] },
      tooltip: { mode: 'multi', sort: 'desc' },
    },
  };
}

function statPanel(
  id: number,
  spec: PanelSpec & { textMode?: 'value' | 'value_and_name' | 'name' },
  gridPos: GridPos,
): Panel {
  return {
    id,
    type: 'stat',
    title: spec.title,
    description: spec.description,
    gridPos,
    datasource: DATASOURCE,
    targets: targets(spec),
    fieldConfig: fieldConfig(spec),
    options: {
      reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
      colorMode: coloured(spec) ? 'background' : 'none',
      graphMode: 'none',
      justifyMode: 'auto',
      orientation: 'auto',
      textMode: spec.textMode ?? 'value_and_name',
    },
  };
}

function variables(laneTier: boolean): Variable[] {
  const list: Variable[] = [
    {
      type: 'datasource',
      name: 'datasource',
      label: 'Prometheus',
      query: 'prometheus',
      current: {},
      hide: 0,
      refresh: 1,
      regex: '',
    },
  ];
  if (!laneTier) return list;
  for (const name of ['lane', 'tier']) {
    // The controller exports every lane × tier of the policy, traffic or not.
    const query = `label_values(spillway_controller_admission_rate, ${name})`;
    list.push({
      type: 'query',
      name,
      label: name === 'lane' ? 'Lane' : 'Tier',
      datasource: DATASOURCE,
      definition: query,
      query: { query, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
      current: { selected: true, text: ['All'], value: ['$__all'] },
      options: [],
      includeAll: true,
      allValue: '.+',
      multi: true,
      hide: 0,
      refresh: 2,
      regex: '',
      sort: 1,
    });
  }
  return list;
}
