import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ProvisionedKey } from '../../common/contracts/index.ts';
import type { Campaign, Fault } from '../campaign-schema.ts';
import { arrivals, stageAt } from './arrivals.ts';
import { keyPicker } from './accounts.ts';
import { type FloorSample, FloorProbe } from './floor-probe.ts';
import type { ImagesClient } from './http-client.ts';
import { type MetricsSample, MetricsSampler } from './metrics-sampler.ts';
import { progressLine } from './progress-line.ts';
import { seededRandom } from './random.ts';
import { type Counts, type Percentiles, Recorder, type SecondBucket } from './recorder.ts';
import { runRequest } from './request-flow.ts';
import { type StatusSample, StatusSampler } from './status-sampler.ts';
import type { Target } from './target.ts';

/** What one run of a campaign against one target measured: the unit of a report. */
export interface RunResult {
  label: string;
  campaign: string;
  startedAt: string;
  durationMs: number;
  /** Requests per second that one campaign rate unit stood for. */
  unit: number;
  buckets: SecondBucket[];
  totals: Record<string, Counts>;
  latencyByTier: Record<string, Percentiles>;
  refusalByTier: Record<string, Percentiles>;
  refusalOverall: Percentiles;
  shedCodes: Record<string, Record<string, number>>;
  status: StatusSample[];
  statusAvailable: boolean;
  /** The target's /metrics several times a second: slots busy, event-loop lag, CPU. */
  metrics: MetricsSample[];
  /** Worker slots of the target ("GPUs"), when known: the denominator of GPU utilisation. */
  slots: number | null;
  /** How each request ended, by lane/tier and cause. */
  endings: Record<string, Record<string, number>>;
  /** CPU the load generator itself used during the run (ms): is it the bottleneck? */
  generatorCpuMs: number;
  /**
   * p99 and max delay of the generator's own event loop (ms): a late loop reads responses late,
   * so refusal latencies above this may be the target's, below it they may be the generator's.
   */
  generatorLoopLag: { p99: number; max: number };
  faults: { at: number; kind: string; applied: boolean; note: string }[];
  /** Health checks sent all through the run (floor-probe.ts): the latency floor refusals compare with. */
  floor: FloorSample[];
  /** Worst delay between an arrival's scheduled time and its dispatch: the generator's own health. */
  senderLagMs: number;
  stages: { name: string; startMs: number; endMs: number }[];
}

export interface RunOptions {
  campaign: Campaign;
  target: Target;
  client: ImagesClient;
  keys: ProvisionedKey[];
  unit: number;
  progress?: (line: string) => void;
}

const LOOP_RESOLUTION_MS = 10;

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function scheduleFaults(o: RunOptions, t0: number, log: RunResult['faults']): () => Promise<void> {
  const timers: NodeJS.Timeout[] = [];
  const undos: (() => Promise<void>)[] = [];
  for (const f of o.campaign.faults) {
    const injector = o.target.faults;
    const why = injector
      ? injector.unsupported(f.kind)
      : `${o.target.label} applies no faults (a stack the runner starts does)`;
    if (why !== null || !injector) {
      log.push({ at: f.at, kind: f.kind, applied: false, note: why ?? '' });
      continue;
    }
    timers.push(
      setTimeout(() => void applyFault(f, injector, undos, log), Math.max(0, t0 + f.at - performance.now())),
    );
  }
  return async () => {
    for (const t of timers) clearTimeout(t);
    await Promise.allSettled(undos.map((u) => u()));
  };
}

async function applyFault(
  f: Fault,
  injector: NonNullable<Target['faults']>,
  undos: (() => Promise<void>)[],
  log: RunResult['faults'],
) {
  try {
    const applied = await injector.apply(f);
    const span = f.for ? `for ${f.for} ms` : 'until the end';
    log.push({ at: f.at, kind: f.kind, applied: true, note: `${applied.note}; ${span}` });
    // An undo that fails (a worker that does not come back) belongs in the report too.
    let undoing: Promise<void> | null = null;
    const undo = () =>
      (undoing ??= applied.undo().catch((err: Error) => {
        log.push({ at: f.at, kind: f.kind, applied: false, note: `undo failed: ${err.message}` });
      }));
    // Undone after `for`, or when the run ends first (once either way; the run waits for it).
    const timer = f.for === undefined ? null : setTimeout(() => void undo(), f.for);
    undos.push(() => {
      if (timer) clearTimeout(timer);
      return undo();
    });
  } catch (err) {
    log.push({ at: f.at, kind: f.kind, applied: false, note: (err as Error).message });
  }
}

/** Runs one campaign against one target: open-model arrivals, then a drain bounded by give-up. */
export async function runCampaign(o: RunOptions): Promise<RunResult> {
  const c = o.campaign;
  const rec = new Recorder();
  const random = seededRandom(c.seed);
  const clientRandom = seededRandom(c.seed ^ 0x5eed);
  const pick = keyPicker(o.keys);
  let promptIndex = 0;
  const t0 = performance.now() + 50;
  const startedAt = new Date().toISOString();
  const sampler = new StatusSampler(o.target.statusUrls, t0);
  sampler.start();
  const metrics = new MetricsSampler(() => o.target.metricsUrls(), t0);
  // Twice a second (workers' busy slots); a distributed gateway every 2 s (see MetricsSampler).
  metrics.start(500);
  const floor = new FloorProbe(o.target.url, t0);
  floor.start(25);
  const cpu0 = process.cpuUsage();
  const loop = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  loop.enable();
  const faults: RunResult['faults'] = [];
  const undoFaults = scheduleFaults(o, t0, faults);
  const ctx = {
    client: o.client,
    recorder: rec,
    behaviour: c.client,
    random: clientRandom,
    t0,
    apiKey: pick,
    prompt: () => c.prompts[promptIndex++ % c.prompts.length],
  };
  const ticker = setInterval(() => {
    const t = performance.now() - t0;
    const second = Math.floor(t / 1000) - 1;
    if (second >= 0 && o.progress)
      o.progress(progressLine(rec, second, stageAt(c, t)?.stage.name ?? 'drain'));
  }, 1000);
  const inflight = new Set<Promise<void>>();
  let lag = 0;
  try {
    for (const a of arrivals(c, random, o.unit)) {
      const wait = t0 + a.at - performance.now();
      if (wait > 1) await sleep(wait);
      lag = Math.max(lag, performance.now() - (t0 + a.at));
      const p = runRequest(a, ctx);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    await Promise.allSettled([...inflight]);
  } finally {
    clearInterval(ticker);
    sampler.stop();
    metrics.stop();
    await floor.stop();
    loop.disable();
    await undoFaults();
  }
  let start = 0;
  const stages = c.stages.map((s) => {
    const st = { name: s.name, startMs: start, endMs: start + s.duration };
    start += s.duration;
    return st;
  });
  return {
    label: o.target.label,
    campaign: c.name,
    startedAt,
    durationMs: performance.now() - t0,
    unit: o.unit,
    buckets: rec.buckets,
    totals: rec.totals(),
    latencyByTier: rec.latencyByTier(),
    refusalByTier: rec.refusalByTier(),
    refusalOverall: rec.refusalOverall(),
    shedCodes: rec.shedCodes,
    status: sampler.samples,
    statusAvailable: sampler.available,
    metrics: metrics.samples,
    slots: o.target.slots ?? null,
    endings: rec.endings,
    generatorCpuMs: cpuMs(process.cpuUsage(cpu0)),
    // The histogram records whole timer intervals: the resolution itself is not lag.
    generatorLoopLag: {
      p99: Math.max(0, loop.percentile(99) / 1e6 - LOOP_RESOLUTION_MS),
      max: Math.max(0, loop.max / 1e6 - LOOP_RESOLUTION_MS),
    },
    faults,
    floor: floor.samples,
    senderLagMs: lag,
    stages,
  };
}
