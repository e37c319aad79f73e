import { buildDashboard } from '../dashboard.ts';
import type { Dashboard } from '../grafana-model.ts';
import { LANE_TIER, quantile, RATE, row, timeseries } from '../panel.ts';
import { dependencyLatency } from './dependency-latency.ts';
import { processPanels } from './process.ts';

export function inferenceDashboard(): Dashboard {
  return buildDashboard({
    uid: 'spillway-inference',
    title: 'Spillway — inference',
    description: 'Jobs, queue wait, decoder passes, slots and dependencies of the inference workers.',
    tags: ['inference'],
    laneTierVariables: true,
    items: [
      row('Jobs'),
      timeseries({
        title: 'Jobs by lane, tier and outcome',
        description: 'completed, blocked, failed, aborted or handed off, per second.',
        unit: 'reqps',
        queries: [
          {
            expr: `sum by (lane, tier, outcome) (rate(spillway_worker_jobs_total{${LANE_TIER}}[${RATE}]))`,
            legend: '{{lane}}/{{tier}} {{outcome}}',
          },
        ],
      }),
      timeseries({
        title: 'Job duration p95 by tier',
        description: 'From claim to terminal state on the worker.',
        unit: 's',
        queries: [
          {
            expr: quantile(0.95, 'spillway_worker_job_duration_seconds', LANE_TIER, ['tier']),
            legend: '{{tier}}',
          },
        ],
      }),
      timeseries({
        title: 'Queue wait by tier',
        description: 'From admission to a worker claiming the job.',
        unit: 's',
        queries: [
          {
            expr: quantile(0.5, 'spillway_worker_queue_wait_seconds', LANE_TIER, ['tier']),
            legend: '{{tier}} p50',
          },
          {
            expr: quantile(0.95, 'spillway_worker_queue_wait_seconds', LANE_TIER, ['tier']),
            legend: '{{tier}} p95',
          },
        ],
      }),
      timeseries({
        title: 'Deliveries dropped before any model ran',
        description: 'Expired, cancelled, already finished or owned elsewhere: GPU time not wasted.',
        unit: 'reqps',
        width: 6,
        queries: [
          {
            expr: `sum by (reason) (rate(spillway_worker_jobs_skipped_total[${RATE}]))`,
            legend: '{{reason}}',
          },
        ],
      }),
      timeseries({
        title: 'Dead-lettered jobs',
        description: 'Jobs sent to the dead-letter topic per second.',
        unit: 'reqps',
        redAt: 0.001,
        width: 6,
        queries: [{ expr: `sum(rate(spillway_worker_dead_letter_total[${RATE}]))`, legend: 'dead-lettered' }],
      }),
      row('GPU'),
      timeseries({
        title: 'Slots busy by worker',
        description: 'Jobs running on each worker process.',
        unit: 'short',
        width: 8,
        queries: [{ expr: 'sum by (worker) (spillway_worker_slots_busy)', legend: '{{worker}}' }],
      }),
      timeseries({
        title: 'Decoder pass duration p95 by size',
        description: 'One coarse-to-fine pass, by the longer side of its output (px).',
        unit: 's',
        width: 8,
        queries: [
          {
            expr: quantile(0.95, 'spillway_worker_pass_duration_seconds', '', ['size']),
            legend: '{{size}} px',
          },
        ],
      }),
      timeseries({
        title: 'GPU saturation',
        description:
          'Pass latency against its idle baseline, or slot use, against the policy target (1 = at target).',
        unit: 'short',
        redAt: 1,
        width: 8,
        queries: [{ expr: 'max(spillway_controller_saturation{dependency="gpu"})', legend: 'gpu' }],
      }),
      timeseries({
        title: 'Blob and store write latency',
        description: 'As the workers report it to the controller.',
        unit: 's',
        width: 24,
        queries: [dependencyLatency(['blob', 'store'])],
      }),
      ...processPanels(),
    ],
  });
}
