import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One registry per process. In embedded mode gateway, controller and workers share it, so one
 * /metrics shows them all. Metric names start with `spillway_`, use base units (seconds, bytes)
 * and label only bounded sets (lane, tier, operation, outcome, reason) — never account ids.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'spillway_', eventLoopMonitoringPrecision: 20 });

/**
 * The exposition text, whole or restricted to the metric families named (`/metrics?name[]=…`, the
 * parameter Prometheus' Python client takes). A full scrape runs every collector on the serving
 * event loop — 3–8 ms in an embedded stack, while the refusals being timed wait behind it — so a
 * load-test sampler that reads five families asks for those five. Unknown names are left out.
 */
export async function metricsText(names: readonly string[] = []): Promise<string> {
  if (names.length === 0) return registry.metrics();
  let text = '';
  // In order, one at a time: some collectors set other families' values (prom-client's
  // nodejs_eventloop_lag_seconds sets the lag percentiles), so the caller names that one first.
  for (const name of names) {
    if (registry.getSingleMetric(name) === undefined) continue;
    text += `${await registry.getSingleMetricAsString(name)}\n`;
  }
  return text;
}

/** The metric families a /metrics request names (`name[]`, repeated), in the order given. */
export function requestedMetricNames(url: string): string[] {
  return new URL(url).searchParams.getAll('name[]');
}
