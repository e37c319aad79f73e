import { buildDashboard } from '../dashboard.ts';
import type { Dashboard } from '../grafana-model.ts';
import { LANE_TIER, quantile, RATE, row, stat, timeseries } from '../panel.ts';
import { CAPACITY_REFUSAL, type TierClasses } from '../tier-classes.ts';

const ADMISSION = 'spillway_gateway_admission_total';

/** For on-call: is paid traffic being served, what is shed and why, which dependency saturates. */
export function overviewDashboard(tiers: TierClasses): Dashboard {
  const paid = `tier=~"${tiers.paid}"`;
  return buildDashboard({
    uid: 'spillway-overview',
    title: 'Spillway — overview',
    description: 'Is paid traffic being served, what is shed and why, which dependency saturates.',
    tags: ['overview'],
    laneTierVariables: true,
    items: [
      row('Is paid traffic being served?'),
      stat({
        title: 'Paid requests admitted',
        description: 'Share of paid requests admitted (refusals include accounts over their own rate limit).',
        unit: 'percentunit',
        greenAt: 0.99,
        textMode: 'value',
        queries: [
          {
            expr: `sum(rate(${ADMISSION}{${paid}, outcome="admitted"}[${RATE}])) / sum(rate(${ADMISSION}{${paid}}[${RATE}]))`,
          },
        ],
      }),
      stat({
        title: 'Paid refused for capacity',
        description:
          'Paid requests refused by shedding, brownout or global limits, per second. Must stay 0 while free requests are admitted.',
        unit: 'reqps',
        redAt: 0.001,
        textMode: 'value',
        queries: [
          {
            expr: `sum(rate(${ADMISSION}{${paid}, outcome="shed", ${CAPACITY_REFUSAL}}[${RATE}])) or vector(0)`,
          },
        ],
      }),
      stat({
        title: 'Paid jobs completed',
        description: 'Paid jobs that reached `completed` on the workers, per second.',
        unit: 'reqps',
        textMode: 'value',
        width: 4,
        queries: [{ expr: `sum(rate(spillway_worker_jobs_total{${paid}, outcome="completed"}[${RATE}]))` }],
      }),
      stat({
        title: 'Gateways on static limits',
        description:
          "Gateways applying the policy's static limits because no fresh controller state reached them (controller or Redis gone).",
        redAt: 1,
        textMode: 'value',
        width: 4,
        queries: [{ expr: 'sum(spillway_gateway_admission_static_fallback)' }],
      }),
      stat({
        title: 'Controllers leading',
        description:
          'Exactly one controller should hold the lease; with none, gateways fall back to static limits.',
        greenAt: 1,
        textMode: 'value',
        queries: [{ expr: 'sum(spillway_controller_leader)' }],
      }),
      timeseries({
        title: 'Admitted and shed by tier',
        description: 'Admission decisions per second.',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (tier, outcome) (rate(${ADMISSION}{${LANE_TIER}}[${RATE}]))`,
            legend: '{{tier}} {{outcome}}',
          },
        ],
      }),
      timeseries({
        title: 'Jobs finished by tier and outcome',
        description: 'Terminal outcomes on the workers, per second.',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (tier, outcome) (rate(spillway_worker_jobs_total{${LANE_TIER}}[${RATE}]))`,
            legend: '{{tier}} {{outcome}}',
          },
        ],
      }),
      timeseries({
        title: 'Queue wait p95 by tier, against the tier maximum',
        description:
          'Time from admission to a worker claiming the job; the dashed series are the tier maxima.',
        unit: 's',
        queries: [
          {
            expr: quantile(0.95, 'spillway_worker_queue_wait_seconds', LANE_TIER, ['tier']),
            legend: '{{tier}} p95',
          },
          {
            expr: `max by (tier) (spillway_controller_max_wait_seconds{${LANE_TIER}})`,
            legend: '{{tier}} max',
          },
        ],
      }),
      timeseries({
        title: 'Time to first partial image',
        description: 'From request to the first partial image streamed to the client.',
        unit: 's',
        queries: [
          { expr: quantile(0.5, 'spillway_gateway_first_partial_seconds', '', []), legend: 'p50' },
          { expr: quantile(0.95, 'spillway_gateway_first_partial_seconds', '', []), legend: 'p95' },
        ],
      }),
      row('What is shed, and why?'),
      timeseries({
        title: 'Refusals by tier and reason',
        description: 'Refused requests per second; account_rate is an account over its own limit.',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (tier, reason) (rate(${ADMISSION}{outcome="shed", ${LANE_TIER}}[${RATE}]))`,
            legend: '{{tier}} {{reason}}',
          },
        ],
      }),
      timeseries({
        title: 'Expected wait / maximum wait',
        description: 'Above 1 a new job would wait longer than its tier allows, so admission refuses it.',
        unit: 'percentunit',
        redAt: 1,
        queries: [
          {
            expr: `max by (lane, tier) (spillway_controller_expected_wait_seconds{${LANE_TIER}} / spillway_controller_max_wait_seconds{${LANE_TIER}})`,
            legend: '{{lane}}/{{tier}}',
          },
        ],
      }),
      timeseries({
        title: 'Brownout level',
        description:
          'Degradation step in force (0 = full quality); free tiers degrade before anyone is refused.',
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
        description: 'One series per lane × tier and mode (open, async-only, shed) while that mode applies.',
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
        title: 'Admit rate',
        description: 'Cost units per second all gateways together may admit (+Inf = uncapped).',
        unit: 'short',
        width: 8,
        queries: [
          {
            expr: `max by (lane, tier) (spillway_controller_admission_rate{${LANE_TIER}})`,
            legend: '{{lane}}/{{tier}}',
          },
        ],
      }),
      row('Which dependency saturates?'),
      timeseries({
        title: 'Saturation by dependency',
        description:
          'Each dependency against its policy target: 1 = at target. The highest one is the bottleneck.',
        unit: 'short',
        redAt: 1,
        queries: [{ expr: 'max by (dependency) (spillway_controller_saturation)', legend: '{{dependency}}' }],
      }),
      stat({
        title: 'Signal staleness',
        description: 'Age of the freshest signal per dependency; a stale one makes the controller fall back.',
        unit: 's',
        redAt: 15,
        height: 8,
        queries: [
          {
            expr: 'max by (dependency) (time() - spillway_controller_signal_timestamp_seconds)',
            legend: '{{dependency}}',
          },
        ],
      }),
      stat({
        title: 'Policy version',
        description: 'Content hash of the active policy.',
        textMode: 'name',
        height: 8,
        queries: [{ expr: 'max by (version) (spillway_policy_active_info)', legend: '{{version}}' }],
      }),
      timeseries({
        title: 'Queue backlog',
        description: 'Jobs enqueued but not yet claimed (the queue lag), per lane × tier.',
        unit: 'short',
        queries: [
          {
            expr: `sum by (lane, tier) (spillway_controller_queue_backlog_jobs{${LANE_TIER}})`,
            legend: '{{lane}}/{{tier}}',
          },
        ],
      }),
      timeseries({
        title: 'Dead-lettered jobs',
        description: 'Jobs sent to the dead-letter topic per second; any is worth a look.',
        unit: 'reqps',
        redAt: 0.001,
        queries: [{ expr: `sum(rate(spillway_worker_dead_letter_total[${RATE}]))`, legend: 'dead-lettered' }],
      }),
    ],
  });
}
