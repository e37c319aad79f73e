import { stringify } from 'yaml';
import { CAPACITY_REFUSAL, type TierClasses } from './tier-classes.ts';

/**
 * An alert is a signal (a PromQL expression that has data whenever the system runs) and the
 * condition on it that fires. Keeping the signal apart lets the Prometheus-backed test prove each
 * alert watches something that exists, even when the condition is (rightly) not met.
 */
export interface AlertRule {
  alert: string;
  signal: string;
  expr: string;
  for: string;
  severity: 'page' | 'ticket';
  summary: string;
  description: string;
}

const ADMISSION = 'spillway_gateway_admission_total';

export function alertRules(tiers: TierClasses): AlertRule[] {
  const paidShed = `sum by (lane) (rate(${ADMISSION}{tier=~"${tiers.paid}", outcome="shed", ${CAPACITY_REFUSAL}}[5m]))`;
  const paidOffered = `sum by (lane) (rate(${ADMISSION}{tier=~"${tiers.paid}"}[5m]))`;
  const unpaidAdmitted = `sum by (lane) (rate(${ADMISSION}{tier=~"${tiers.unpaid}", outcome="admitted"}[5m]))`;
  // 0 rather than no data for a lane whose paid traffic is all admitted.
  const paidShedRate = `(${paidShed} or ${paidOffered} * 0)`;
  const waitRatio =
    'max by (lane, tier) (spillway_controller_expected_wait_seconds / spillway_controller_max_wait_seconds)';
  const leaders = 'sum(spillway_controller_leader)';
  const fallback = 'sum(spillway_gateway_admission_static_fallback)';
  const staleness = 'max by (dependency) (time() - spillway_controller_signal_timestamp_seconds)';
  const deadLetters = 'sum(increase(spillway_worker_dead_letter_total[10m]))';
  const reportingWorkers = 'max(spillway_controller_workers_reporting)';
  const policyOnDisk = 'min(spillway_policy_on_disk_valid)';
  const policyWarnings = 'max(spillway_policy_warnings)';
  return [
    {
      alert: 'SpillwayPaidRefusedWhileFreeAdmitted',
      signal: paidShedRate,
      expr: `${paidShedRate} > 0 and on (lane) ${unpaidAdmitted} > 0`,
      for: '1m',
      severity: 'page',
      summary:
        'Paid requests refused for capacity while free requests are admitted in lane {{ $labels.lane }}',
      description:
        'Shedding order is broken: {{ $value | humanize }} paid refusals/s in lane {{ $labels.lane }} while the free tier is still admitted. Check the admission state on /status and the policy version.',
    },
    {
      alert: 'SpillwayPaidRefusals',
      signal: `${paidShedRate} / ${paidOffered}`,
      expr: `${paidShedRate} / ${paidOffered} > 0.01`,
      for: '5m',
      severity: 'page',
      summary: 'Over 1% of paid requests refused for capacity in lane {{ $labels.lane }}',
      description:
        '{{ $value | humanizePercentage }} of paid requests in lane {{ $labels.lane }} are refused (shed, over max wait, global rate). Find the saturated dependency on the overview dashboard.',
    },
    {
      alert: 'SpillwayExpectedWaitOverMax',
      signal: waitRatio,
      expr: `${waitRatio} > 1`,
      for: '2m',
      severity: 'ticket',
      summary: 'Expected wait over the maximum for {{ $labels.lane }}/{{ $labels.tier }}',
      description:
        'A job admitted now would wait {{ $value | humanize }}× its tier maximum, so {{ $labels.tier }} requests are refused. Capacity is short of demand.',
    },
    {
      alert: 'SpillwayControllerWithoutLeader',
      signal: leaders,
      expr: `(${leaders} or vector(0)) < 1`,
      for: '30s',
      severity: 'page',
      summary: 'No controller holds the leader lease',
      description:
        'Gateways keep the last admission state until its TTL, then fall back to the static limits of the policy. Check the controllers and Redis.',
    },
    {
      alert: 'SpillwayGatewaysOnStaticLimits',
      signal: fallback,
      expr: `${fallback} > 0`,
      for: '1m',
      severity: 'ticket',
      summary: '{{ $value }} gateway(s) on the static limits of the policy',
      description:
        'No fresh admission state reaches them (controller without leader, or Redis unreachable); they admit at the static per-tier rates, which waste capacity or overload it.',
    },
    {
      alert: 'SpillwaySignalStale',
      signal: staleness,
      expr: `${staleness} > 30`,
      for: '1m',
      severity: 'ticket',
      summary: 'No fresh {{ $labels.dependency }} signal for {{ $value | humanizeDuration }}',
      description:
        'The controller ignores signals older than the policy signalMaxAge, so its view of {{ $labels.dependency }} is unknown and it runs on fallbacks. Check the reporting workers or gateways.',
    },
    {
      alert: 'SpillwayNoLiveWorker',
      signal: reportingWorkers,
      expr: `${reportingWorkers} < 1`,
      for: '30s',
      severity: 'page',
      summary: 'No inference worker is reporting',
      description:
        'Nothing is being served. The controller keeps admitting on the last capacity it learned for the policy control.capacity.holdAfterLoss (spillway_controller_capacity_source="held"), shedding tiers as their queues pass their maximum wait; after that, gateways run on the static fallback rates. Check the inference processes and their link to Redis and Kafka.',
    },
    {
      alert: 'SpillwayDeadLetterGrowing',
      signal: deadLetters,
      expr: `${deadLetters} > 0`,
      for: '0m',
      severity: 'ticket',
      summary: '{{ $value | humanize }} jobs dead-lettered in the last 10 minutes',
      description:
        'Jobs failed every attempt or could not be parsed; they are failed for the client. Read the dead-letter topic for the cause.',
    },
    {
      alert: 'SpillwayPolicyRefused',
      signal: policyOnDisk,
      expr: `${policyOnDisk} < 1`,
      for: '1m',
      severity: 'ticket',
      summary: 'The policy files on disk are refused; the last good policy is running',
      description:
        'An edit to the policy directory has not taken effect: the files as they are now fail validation, so the services keep the last good version (spillway_policy_active_info). `npx spillway policy check <dir>` names each problem as file:line:col; the rejection is logged (event policy_rejected) and shown on the controller status page.',
    },
    {
      alert: 'SpillwayPolicyWarnings',
      signal: policyWarnings,
      expr: `${policyWarnings} > 0`,
      for: '5m',
      severity: 'ticket',
      summary: '{{ $value }} warning(s) on the active policy',
      description:
        'The policy is active but probably not as meant, e.g. a file that files sorting after it undo (shadowed-file: a base file named after its overrides). `npx spillway policy check <dir>` lists the warnings; they are also logged (event policy_warning).',
    },
  ];
}

/** The Prometheus rule file (dashboards/prometheus/alerts.yml). */
export function alertsYaml(rules: AlertRule[]): string {
  const doc = {
    groups: [
      {
        name: 'spillway',
        rules: rules.map((r) => ({
          alert: r.alert,
          expr: r.expr,
          for: r.for,
          labels: { severity: r.severity },
          annotations: { summary: r.summary, description: r.description },
        })),
      },
    ],
  };
  return `# Generated by \`npx tsx dashboards/generate.ts\` from dashboards/alert-rules.ts; do not edit.\n${stringify(doc, { lineWidth: 0 })}`;
}
