import { Gauge, Histogram } from 'prom-client';
import { HotCounter, HotHistogram } from '../common/hot-metrics.ts';
import { registry } from '../common/metrics.ts';

// Module-level: one set per process however many gateways a test creates. Labels are bounded
// sets (route templates, lane, tier, reason) — never account or job ids. What every request
// updates is a hot metric (common/hot-metrics.ts): label values in `labelNames` order.

function once<T>(name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export const requestsTotal = once(
  'spillway_gateway_requests_total',
  () =>
    new HotCounter({
      name: 'spillway_gateway_requests_total',
      help: 'HTTP requests answered, by route and status',
      labelNames: ['route', 'status'] as const,
      registry,
    }),
);

export const admissionTotal = once(
  'spillway_gateway_admission_total',
  () =>
    new HotCounter({
      name: 'spillway_gateway_admission_total',
      help: 'Admission decisions by lane, tier, outcome (admitted, shed) and reason',
      labelNames: ['lane', 'tier', 'outcome', 'reason'] as const,
      registry,
    }),
);

export const admissionSeconds = once(
  'spillway_gateway_admission_decision_seconds',
  () =>
    new HotHistogram({
      name: 'spillway_gateway_admission_decision_seconds',
      help: 'Time to decide admission (limits and tokens included)',
      labelNames: [] as const,
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
      registry,
    }),
);

export const requestSeconds = once(
  'spillway_gateway_request_duration_seconds',
  () =>
    new HotHistogram({
      name: 'spillway_gateway_request_duration_seconds',
      help: 'Time to answer a request (until the response starts for streams)',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 120],
      registry,
    }),
);

export const firstPartialSeconds = once(
  'spillway_gateway_first_partial_seconds',
  () =>
    new Histogram({
      name: 'spillway_gateway_first_partial_seconds',
      help: 'Time from request to the first partial image streamed',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
);

export const authCacheTotal = once(
  'spillway_gateway_auth_lookups_total',
  () =>
    new HotCounter({
      name: 'spillway_gateway_auth_lookups_total',
      help: 'API key look-ups by result (hit = served from the in-process cache)',
      labelNames: ['result'] as const,
      registry,
    }),
);

export const heldConnections = once(
  'spillway_gateway_held_connections',
  () =>
    new Gauge({
      name: 'spillway_gateway_held_connections',
      help: 'Sync and streaming requests held open',
      registers: [registry],
    }),
);

export const admissionFallback = once(
  'spillway_gateway_admission_static_fallback',
  () =>
    new Gauge({
      name: 'spillway_gateway_admission_static_fallback',
      help: "1 while this gateway applies the policy's static limits (no fresh controller state), else 0",
      registers: [registry],
    }),
);
