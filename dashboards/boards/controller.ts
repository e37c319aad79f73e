import { buildDashboard } from '../dashboard.ts';
import type { Dashboard } from '../grafana-model.ts';
import { LANE_TIER, RATE, row, stat, timeseries } from '../panel.ts';
import { dependencyLatency } from './dependency-latency.ts';
import { processPanels } from './process.ts';

export function controllerDashboard(): Dashboard {
  return buildDashboard({
    uid: 'spillway-controller',
    title: 'Spillway — controller',
    description: 'Leadership, the admission state it publishes, capacity, signals and saturation.',
    tags: ['controller'],
    laneTierVariables: true,
    items: [
      row('Leadership and policy'),
      stat({
        title: 'Controllers leading',
        description: 'Exactly one should hold the lease.',
        greenAt: 1,
        textMode: 'value',
        queries: [{ expr: 'sum(spillway_controller_leader)' }],
      }),
      stat({
        title: 'Policy version',
        description: 'Policy version the controller computes with.',
        textMode: 'name',
        queries: [{ expr: 'max by (version) (spillway_controller_policy_info)', legend: '{{version}}' }],
      }),
      timeseries({
        title: 'Admission states published',
        description: 'published = written; fenced = refused because a newer leader exists.',
        unit: 'short',
        queries: [
          {
            expr: `sum by (outcome) (rate(spillway_controller_publications_total[${RATE}]))`,
            legend: '{{outcome}}',
          },
        ],
      }),
      timeseries({
        title: 'Takeovers',
        description:
          "A controller became leader. resumed = carried on from its predecessor's handover (learned capacity kept); cold = learned capacity again, the static fallback rates meanwhile.",
        unit: 'short',
        queries: [
          {
            expr: `sum by (memory) (increase(spillway_controller_takeovers_total[${RATE}]))`,
            legend: '{{memory}}',
          },
        ],
      }),
      row('Admission state'),
      timeseries({
        title: 'Admit rate',
        description: 'Cost units per second all gateways together may admit (+Inf = uncapped).',
        unit: 'short',
        queries: [
          {
            expr: `max by (lane, tier) (spillway_controller_admission_rate{${LANE_TIER}})`,
            legend: '{{lane}}/{{tier}}',
          },
        ],
      }),
      timeseries({
        title: 'Expected wait and maximum wait',
        description: 'Expected queue wait of a job admitted now, against the tier maximum.',
        unit: 's',
        queries: [
          {
            expr: `max by (lane, tier) (spillway_controller_expected_wait_seconds{${LANE_TIER}})`,
            legend: '{{lane}}/{{tier}} expected',
          },
          {
            expr: `max by (lane, tier) (spillway_controller_max_wait_seconds{${LANE_TIER}})`,
            legend: '{{lane}}/{{tier}} max',
          },
        ],
      }),
      timeseries({
        title: 'Brownout level',
        description: 'Degradation step in force (0 = full quality).',
        unit: 'short',
        width: 8,
        queries: [
          {
            expr: `max by (lane, tier) (spillway_controller_brownout_level{${LANE_TIER}})`,
            legend: '{{lane}}/{{tier}}',
          },
        ],
      }),
      timeseries({
        title: 'Admission mode in force',
        description: 'open, async-only or shed, per lane × tier.',
        unit: 'short',
        width: 8,
        queries: [
          {
            expr: `max by (lane, tier, mode) (spillway_controller_admission_mode{${LANE_TIER}}) > 0`,
            legend: '{{lane}}/{{tier}} {{mode}}',
          },
        ],
      }),
      timeseries({
        title: 'Learned capacity by lane',
        description: 'Cost units per second the workers of each lane finish.',
        unit: 'short',
        width: 8,
        queries: [
          {
            expr: 'max by (lane) (spillway_controller_capacity_cost_per_second{lane=~"$lane"})',
            legend: '{{lane}}',
          },
        ],
      }),
      timeseries({
        title: 'Workers reporting and capacity source',
        description:
          'Workers reporting, learned or not. held = none live, the last learned capacity stands in (policy holdAfterLoss); unknown = static fallback.',
        unit: 'short',
        width: 8,
        queries: [
          { expr: 'max(spillway_controller_workers_reporting)', legend: 'workers reporting' },
          {
            expr: 'max by (source) (spillway_controller_capacity_source) > 0',
            legend: 'capacity {{source}}',
          },
        ],
      }),
      row('Signals'),
      timeseries({
        title: 'Saturation by dependency',
        description: 'Each dependency against its policy target: 1 = at target.',
        unit: 'short',
        redAt: 1,
        width: 8,
        queries: [{ expr: 'max by (dependency) (spillway_controller_saturation)', legend: '{{dependency}}' }],
      }),
      timeseries({
        title: 'Signal staleness',
        description:
          "Age of the freshest signal of each dependency; older than the policy's signalMaxAge is ignored.",
        unit: 's',
        redAt: 15,
        width: 8,
        queries: [
          {
            expr: 'max by (dependency) (time() - spillway_controller_signal_timestamp_seconds)',
            legend: '{{dependency}}',
          },
        ],
      }),
      timeseries({
        title: 'Store, auth and blob latency',
        description: 'Measured latency behind the saturation (auth: latency or its error-rate equivalent).',
        unit: 's',
        width: 8,
        queries: [dependencyLatency(['store', 'auth', 'blob'])],
      }),
      timeseries({
        title: 'Queue backlog (lag)',
        description: 'Jobs enqueued but not yet claimed, per lane × tier.',
        unit: 'short',
        queries: [
          {
            expr: `sum by (lane, tier) (spillway_controller_queue_backlog_jobs{${LANE_TIER}})`,
            legend: '{{lane}}/{{tier}}',
          },
        ],
      }),
      timeseries({
        title: 'Reaper actions',
        description:
          'Jobs whose worker lease lapsed (requeued) or whose deadline passed in the queue (expired).',
        unit: 'short',
        queries: [
          {
            expr: `sum by (action) (rate(spillway_controller_reaper_actions_total[${RATE}]))`,
            legend: '{{action}}',
          },
        ],
      }),
      ...processPanels(),
    ],
  });
}
