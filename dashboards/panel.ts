/**
 * What a dashboard author writes: rows and panels with their PromQL, in reading order. The
 * layout (grid positions, ids) and Grafana's boilerplate are added by dashboard.ts.
 */

export interface Query {
  expr: string;
  /** Grafana legend template, e.g. `{{lane}}/{{tier}}`. */
  legend?: string;
}

export interface PanelSpec {
  title: string;
  /** What the panel answers for the on-call engineer, shown as the panel's info tooltip. */
  description: string;
  queries: Query[];
  /** Grafana unit id: s, reqps, percentunit, short, bytes, dateTimeFromNow… */
  unit?: string;
  /** Values at or above it turn red (a saturation target, a maximum wait ratio). */
  redAt?: number;
  /** Values below it are red, at or above green (a leader count). */
  greenAt?: number;
  min?: number;
  max?: number;
  /** Grid columns out of 24 (default 12 for time series, 6 for stats). */
  width?: number;
  height?: number;
}

export type Item =
  | { kind: 'row'; title: string }
  | ({ kind: 'timeseries' } & PanelSpec)
  | ({ kind: 'stat' } & PanelSpec & { textMode?: 'value' | 'value_and_name' | 'name' });

export const row = (title: string): Item => ({ kind: 'row', title });
export const timeseries = (spec: PanelSpec): Item => ({ kind: 'timeseries', ...spec });
export const stat = (spec: PanelSpec & { textMode?: 'value' | 'value_and_name' | 'name' }): Item => ({
  kind: 'stat',
  ...spec,
});

/** Grafana picks a step-aware window for rate(); tests substitute a concrete one. */
export const RATE = '$__rate_interval';

/** Lane and tier filters bound to the dashboard's variables. */
export const LANE_TIER = 'lane=~"$lane", tier=~"$tier"';

/** `histogram_quantile` over a histogram's buckets, aggregated by `by` (le is added). */
export function quantile(q: number, metric: string, filter: string, by: string[]): string {
  const keep = ['le', ...by].join(', ');
  return `histogram_quantile(${q}, sum by (${keep}) (rate(${metric}_bucket{${filter}}[${RATE}])))`;
}
