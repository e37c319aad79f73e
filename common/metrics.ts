import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One registry per process. In embedded mode gateway, controller and workers share it, so one
 * /metrics shows them all. Metric names start with `spillway_`, use base units (seconds, bytes)
 * and label only bounded sets (lane, tier, operation, outcome, reason) — never account ids.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'spillway_', eventLoopMonitoringPrecision: 20 });
