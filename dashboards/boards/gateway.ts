import { buildDashboard } from '../dashboard.ts';
import type { Dashboard } from '../grafana-model.ts';
import { LANE_TIER, quantile, RATE, row, stat, timeseries } from '../panel.ts';
import { dependencyLatency } from './dependency-latency.ts';
import { processPanels } from './process.ts';

const ADMISSION = 'spillway_gateway_admission_total';

export function gatewayDashboard(): Dashboard {
  return buildDashboard({
    uid: 'spillway-gateway',
    title: 'Spillway — gateway',
    description: 'HTTP traffic, admission decisions, refusals, latency and dependencies of the gateways.',
    tags: ['gateway'],
    laneTierVariables: true,
    items: [
      row('Traffic'),
      timeseries({
        title: 'Requests by route and status',
        description: 'HTTP answers per second.',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (route, status) (rate(spillway_gateway_requests_total[${RATE}]))`,
            legend: '{{route}} {{status}}',
          },
        ],
      }),
      timeseries({
        title: 'Request duration p95 by route',
        description: 'Until the response starts (streams count until their headers).',
        unit: 's',
        queries: [
          {
            expr: quantile(0.95, 'spillway_gateway_request_duration_seconds', '', ['route']),
            legend: '{{route}}',
          },
        ],
      }),
      timeseries({
        title: 'Admission by lane, tier and outcome',
        description: 'Admission decisions per second.',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (lane, tier, outcome) (rate(${ADMISSION}{${LANE_TIER}}[${RATE}]))`,
            legend: '{{lane}}/{{tier}} {{outcome}}',
          },
        ],
      }),
      timeseries({
        title: 'Refusals by reason',
        description: 'Refused requests per second by reason (shed, over_max_wait, account_rate…).',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (reason) (rate(${ADMISSION}{outcome="shed", ${LANE_TIER}}[${RATE}]))`,
            legend: '{{reason}}',
          },
        ],
      }),
      row('Latency'),
      timeseries({
        title: 'Admission decision latency',
        description: 'Auth, limits and the admission decision, before the enqueue.',
        unit: 's',
        width: 8,
        queries: [
          { expr: quantile(0.5, 'spillway_gateway_admission_decision_seconds', '', []), legend: 'p50' },
          { expr: quantile(0.99, 'spillway_gateway_admission_decision_seconds', '', []), legend: 'p99' },
        ],
      }),
      timeseries({
        title: 'Time to first partial image',
        description: 'From request to the first partial image streamed.',
        unit: 's',
        width: 8,
        queries: [
          { expr: quantile(0.5, 'spillway_gateway_first_partial_seconds', '', []), legend: 'p50' },
          { expr: quantile(0.95, 'spillway_gateway_first_partial_seconds', '', []), legend: 'p95' },
        ],
      }),
      stat({
        title: 'Connections held open',
        description: 'Sync and streaming requests waiting on their job.',
        width: 4,
        height: 8,
        textMode: 'value',
        queries: [{ expr: 'sum(spillway_gateway_held_connections)' }],
      }),
      stat({
        title: 'Gateways on static limits',
        description:
          "Gateways applying the policy's static limits: no fresh admission state from the controller.",
        width: 4,
        height: 8,
        redAt: 1,
        textMode: 'value',
        queries: [{ expr: 'sum(spillway_gateway_admission_static_fallback)' }],
      }),
      row('Dependencies'),
      timeseries({
        title: 'API key look-ups by result',
        description: 'hit = served from the in-process cache; miss = asked the account store.',
        unit: 'reqps',
        width: 8,
        queries: [
          {
            expr: `sum by (result) (rate(spillway_gateway_auth_lookups_total[${RATE}]))`,
            legend: '{{result}}',
          },
        ],
      }),
      timeseries({
        title: 'Auth and store latency',
        description:
          'As reported to the controller (auth: the worse of latency and its error-rate equivalent).',
        unit: 's',
        width: 8,
        queries: [dependencyLatency(['auth', 'store'])],
      }),
      timeseries({
        title: 'Policy reloads',
        description: 'Policy reload attempts by result; a rejected one keeps the last good policy running.',
        unit: 'short',
        width: 8,
        queries: [
          { expr: `sum by (result) (increase(spillway_policy_reload_total[${RATE}]))`, legend: '{{result}}' },
        ],
      }),
      ...processPanels(),
    ],
  });
}
