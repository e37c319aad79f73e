import { z } from 'zod';

/**
 * The subset of Grafana's dashboard JSON model (schemaVersion 39+, Grafana 11 and later) that
 * Spillway's dashboards use, strict enough that a typo in a field Grafana reads fails a test
 * rather than silently importing as an empty panel. Unknown panel types are refused on purpose:
 * adding one means adding its options here first.
 */

export const MIN_SCHEMA_VERSION = 39;

const DataSourceRef = z.object({ type: z.literal('prometheus'), uid: z.string().min(1) }).strict();

const GridPos = z
  .object({
    h: z.number().int().min(1),
    w: z.number().int().min(1).max(24),
    x: z.number().int().min(0).max(23),
    y: z.number().int().min(0),
  })
  .strict()
  .refine((g) => g.x + g.w <= 24, 'panel wider than the 24-column grid');

const PrometheusTarget = z
  .object({
    datasource: DataSourceRef,
    refId: z.string().regex(/^[A-Z]$/),
    expr: z.string().min(1),
    legendFormat: z.string().optional(),
    editorMode: z.enum(['code', 'builder']).optional(),
    range: z.boolean().optional(),
    instant: z.boolean().optional(),
  })
  .strict();

const Threshold = z.object({ color: z.string(), value: z.number().nullable() }).strict();

const FieldDefaults = z
  .object({
    unit: z.string().optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    decimals: z.number().int().optional(),
    color: z.object({ mode: z.string() }).strict().optional(),
    thresholds: z
      .object({ mode: z.enum(['absolute', 'percentage']), steps: z.array(Threshold).min(1) })
      .strict()
      .optional(),
    custom: z.record(z.string(), z.unknown()).optional(),
    mappings: z.array(z.unknown()).optional(),
  })
  .strict();

const FieldConfig = z.object({ defaults: FieldDefaults, overrides: z.array(z.unknown()) }).strict();

const PanelBase = {
  id: z.number().int().positive(),
  title: z.string().min(1),
  description: z.string().optional(),
  gridPos: GridPos,
};

const QueryPanelBase = {
  ...PanelBase,
  datasource: DataSourceRef,
  targets: z.array(PrometheusTarget).min(1),
  fieldConfig: FieldConfig,
};

const Legend = z
  .object({
    showLegend: z.boolean(),
    displayMode: z.enum(['list', 'table', 'hidden']),
    placement: z.enum(['bottom', 'right']),
    calcs: z.array(z.string()),
  })
  .strict();

const Tooltip = z.object({
  mode: z.enum(['single', 'multi', 'none']),
  sort: z.enum(['none', 'asc', 'desc']),
});

const ReduceOptions = z
  .object({ calcs: z.array(z.string()).min(1), fields: z.string(), values: z.boolean() })
  .strict();

export const TimeseriesPanel = z
  .object({
    ...QueryPanelBase,
    type: z.literal('timeseries'),
    options: z.object({ legend: Legend, tooltip: Tooltip }).strict(),
  })
  .strict();

export const StatPanel = z
  .object({
    ...QueryPanelBase,
    type: z.literal('stat'),
    options: z
      .object({
        reduceOptions: ReduceOptions,
        colorMode: z.enum(['value', 'background', 'none']),
        graphMode: z.enum(['area', 'none']),
        justifyMode: z.enum(['auto', 'center']),
        orientation: z.enum(['auto', 'horizontal', 'vertical']),
        textMode: z.enum(['auto', 'value', 'value_and_name', 'name', 'none']),
      })
      .strict(),
  })
  .strict();

export const RowPanel = z
  .object({
    ...PanelBase,
    type: z.literal('row'),
    collapsed: z.boolean(),
    panels: z.array(z.unknown()).length(0),
  })
  .strict();

export const Panel = z.discriminatedUnion('type', [TimeseriesPanel, StatPanel, RowPanel]);
export type Panel = z.infer<typeof Panel>;
export type QueryPanel = Exclude<Panel, { type: 'row' }>;

const VariableOption = z.object({ selected: z.boolean(), text: z.string(), value: z.string() }).strict();

const DatasourceVariable = z
  .object({
    type: z.literal('datasource'),
    name: z.string().regex(/^\w+$/),
    label: z.string(),
    query: z.literal('prometheus'),
    current: z.object({}).strict(),
    hide: z.number().int().min(0).max(2),
    refresh: z.literal(1),
    regex: z.string(),
  })
  .strict();

const QueryVariable = z
  .object({
    type: z.literal('query'),
    name: z.string().regex(/^\w+$/),
    label: z.string(),
    datasource: DataSourceRef,
    definition: z.string(),
    query: z.object({ query: z.string().startsWith('label_values('), refId: z.string() }).strict(),
    current: z
      .object({ selected: z.boolean(), text: z.array(z.string()), value: z.array(z.string()) })
      .strict(),
    options: z.array(VariableOption),
    includeAll: z.boolean(),
    allValue: z.string().optional(),
    multi: z.boolean(),
    hide: z.number().int().min(0).max(2),
    refresh: z.union([z.literal(1), z.literal(2)]),
    regex: z.string(),
    sort: z.number().int().min(0).max(8),
  })
  .strict();

export const Variable = z.discriminatedUnion('type', [DatasourceVariable, QueryVariable]);
export type Variable = z.infer<typeof Variable>;

const Annotation = z
  .object({
    builtIn: z.literal(1),
    datasource: z.object({ type: z.literal('grafana'), uid: z.literal('-- Grafana --') }).strict(),
    enable: z.boolean(),
    hide: z.boolean(),
    iconColor: z.string(),
    name: z.string(),
    type: z.literal('dashboard'),
  })
  .strict();

export const Dashboard = z
  .object({
    uid: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
    title: z.string().min(1),
    description: z.string().optional(),
    tags: z.array(z.string()),
    schemaVersion: z.number().int().min(MIN_SCHEMA_VERSION),
    version: z.number().int().min(0),
    editable: z.boolean(),
    graphTooltip: z.union([z.literal(0), z.literal(1), z.literal(2)]),
    fiscalYearStartMonth: z.number().int().min(0).max(11),
    liveNow: z.boolean(),
    refresh: z.string(),
    time: z.object({ from: z.string(), to: z.string() }).strict(),
    timepicker: z.object({}).strict(),
    timezone: z.string(),
    weekStart: z.string(),
    links: z.array(z.unknown()),
    annotations: z.object({ list: z.array(Annotation) }).strict(),
    templating: z.object({ list: z.array(Variable) }).strict(),
    panels: z.array(Panel).min(1),
  })
  .strict()
  .superRefine((d, ctx) => {
    const ids = new Set<number>();
    for (const p of d.panels) {
      if (ids.has(p.id)) ctx.addIssue({ code: 'custom', message: `panel id ${p.id} is used twice` });
      ids.add(p.id);
      if (p.type === 'row') continue;
      const refs = p.targets.map((t) => t.refId);
      if (new Set(refs).size !== refs.length)
        ctx.addIssue({ code: 'custom', message: `panel "${p.title}" repeats a refId` });
    }
    for (const [a, b] of overlappingPanels(d.panels))
      ctx.addIssue({ code: 'custom', message: `panels "${a}" and "${b}" overlap on the grid` });
  });
export type Dashboard = z.infer<typeof Dashboard>;

function overlappingPanels(
  panels: { title: string; gridPos: z.infer<typeof GridPos> }[],
): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < panels.length; i++) {
    for (let j = i + 1; j < panels.length; j++) {
      const a = panels[i].gridPos;
      const b = panels[j].gridPos;
      const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
      if (!apart) out.push([panels[i].title, panels[j].title]);
    }
  }
  return out;
}
