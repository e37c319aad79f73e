import { Counter, Gauge, type Metric } from 'prom-client';
import type { AdmissionState } from '../common/contracts/index.ts';
import { registry } from '../common/metrics.ts';
import type { ControlView } from './control-step.ts';

function once<M extends Metric>(name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

const gauge = (name: string, help: string, labelNames: string[]) =>
  once(name, () => new Gauge({ name, help, labelNames, registers: [registry] }));
const counter = (name: string, help: string, labelNames: string[]) =>
  once(name, () => new Counter({ name, help, labelNames, registers: [registry] }));

const admissionRate = gauge(
  'spillway_controller_admission_rate',
  'Cost units per second admitted across gateways (+Inf = uncapped)',
  ['lane', 'tier'],
);
const admissionMode = gauge('spillway_controller_admission_mode', '1 for the current mode of lane × tier', [
  'lane',
  'tier',
  'mode',
]);
const brownoutLevel = gauge('spillway_controller_brownout_level', 'Brownout step in force (0 = none)', [
  'lane',
  'tier',
]);
const expectedWait = gauge(
  'spillway_controller_expected_wait_seconds',
  'Expected queue wait of a job admitted now',
  ['lane', 'tier'],
);
const capacity = gauge(
  'spillway_controller_capacity_cost_per_second',
  'Learned capacity in cost units per second',
  ['lane'],
);
const reportingWorkers = gauge(
  'spillway_controller_workers_reporting',
  'Inference workers that reported recently (policy workerLateIntervals), whether or not their capacity is learned yet',
  [],
);
const capacitySource = gauge(
  'spillway_controller_capacity_source',
  '1 for where capacity comes from: learned (live workers), held (none live, the last learned stands in), unknown (static fallback)',
  ['source'],
);
const saturation = gauge(
  'spillway_controller_saturation',
  'Dependency saturation against its target (1 = at target)',
  ['dependency'],
);
const saturationTarget = gauge(
  'spillway_controller_saturation_target',
  'Target each saturation is measured against',
  ['dependency'],
);
const maxWait = gauge(
  'spillway_controller_max_wait_seconds',
  "The tier's maximum wait in force (the expected wait must stay below it)",
  ['lane', 'tier'],
);
const backlog = gauge(
  'spillway_controller_queue_backlog_jobs',
  'Jobs enqueued but not yet claimed by a worker (the queue lag)',
  ['lane', 'tier'],
);
const signalSeen = gauge(
  'spillway_controller_signal_timestamp_seconds',
  'When the freshest signal of a dependency was taken (0 = never); time() minus it is its staleness',
  ['dependency'],
);
const leader = gauge('spillway_controller_leader', '1 while this controller holds the lease', ['controller']);
const publications = counter('spillway_controller_publications_total', 'Admission states published', [
  'outcome',
]);
const takeovers = counter(
  'spillway_controller_takeovers_total',
  "Times this controller became leader: resumed its predecessor's memory, or started cold (capacity learned again)",
  ['memory'],
);
for (const memory of ['resumed', 'cold']) takeovers.inc({ memory }, 0);
const reaperActions = counter('spillway_controller_reaper_actions_total', 'Jobs the reaper acted on', [
  'action',
]);
// Both series exist from the start, so rate() reads 0 rather than "no data" before the first action.
for (const action of ['requeued', 'expired']) reaperActions.inc({ action }, 0);
const policyInfo = gauge('spillway_controller_policy_info', 'Policy version the controller runs on', [
  'version',
]);

const MODES = ['open', 'async-only', 'shed'] as const;
const CAPACITY_SOURCES = ['learned', 'held', 'unknown'] as const;
const everSeen = new Set<string>();

export const controllerMetrics = {
  leader(id: string, isLeader: boolean) {
    leader.set({ controller: id }, isLeader ? 1 : 0);
  },
  tookOver(resumed: boolean) {
    takeovers.inc({ memory: resumed ? 'resumed' : 'cold' });
  },
  published(ok: boolean) {
    publications.inc({ outcome: ok ? 'published' : 'fenced' });
  },
  reaped(requeued: number, expired: number) {
    if (requeued) reaperActions.inc({ action: 'requeued' }, requeued);
    if (expired) reaperActions.inc({ action: 'expired' }, expired);
  },
  policy(version: string) {
    policyInfo.reset();
    policyInfo.set({ version }, 1);
  },
  state(state: AdmissionState, view: ControlView) {
    for (const [lane, tiers] of Object.entries(state.lanes)) {
      for (const [tier, a] of Object.entries(tiers)) {
        admissionRate.set({ lane, tier }, a.rate ?? Number.POSITIVE_INFINITY);
        for (const mode of MODES) admissionMode.set({ lane, tier, mode }, a.mode === mode ? 1 : 0);
        brownoutLevel.set({ lane, tier }, a.brownout.level);
        expectedWait.set({ lane, tier }, a.expectedWaitMs / 1000);
        maxWait.set({ lane, tier }, a.maxWaitMs / 1000);
      }
    }
    for (const t of view.tiers) backlog.set({ lane: t.lane, tier: t.tier }, t.backlogJobs);
    for (const [lane, c] of Object.entries(view.laneCapacity)) capacity.set({ lane }, c);
    reportingWorkers.set(view.capacity.reporting);
    const source = !view.capacity.known ? 'unknown' : view.capacity.heldSince === null ? 'learned' : 'held';
    for (const s of CAPACITY_SOURCES) capacitySource.set({ source: s }, s === source ? 1 : 0);
    for (const [dep, s] of Object.entries(view.saturation)) {
      if (s.value !== null) saturation.set({ dependency: dep }, s.value);
      saturationTarget.set({ dependency: dep }, s.target);
      // A dependency that never reported shows as stale since the epoch, so staleness alerts fire.
      if (s.ageMs !== null) {
        signalSeen.set({ dependency: dep }, (view.at - s.ageMs) / 1000);
        everSeen.add(dep);
      } else if (!everSeen.has(dep)) signalSeen.set({ dependency: dep }, 0);
    }
  },
};
