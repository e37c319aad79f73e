import { availableParallelism } from 'node:os';
import type { Infra } from '../common/infra.ts';
import { ModelPool } from './model-pool.ts';
import { ensureModels, type ModelBundle } from './models/model-cache.ts';
import type { ModelRunner } from './model-runner.ts';
import { passDetail } from './render-plan.ts';
import { startSignalReporter } from './signals.ts';
import { InferenceWorker, type WorkerOptions } from './worker.ts';
import { type FleetWorker, WorkerFleet } from './worker-fleet.ts';

/** What each worker needs (see WorkerOptions), plus how the service builds its models and fleet. */
export interface InferenceDeps
  extends Pick<WorkerOptions, 'infra' | 'policy' | 'log' | 'workerId' | 'slots' | 'lanes'> {
  /** Overrides for tests and tools; defaults suit production. */
  leaseMs?: number;
  modelDir?: string;
  modelThreads?: number;
  /** CPU nice value of the model threads (SPILLWAY_MODEL_NICE); 0 = same as the event loops. */
  modelNice?: number;
  /**
   * One worker of one slot per slot, which faults can kill or add (the embedded stack with fault
   * hooks, see worker-fleet.ts); otherwise one worker holds every slot.
   */
  workerPerSlot?: boolean;
}

const CALIBRATION_SIDE = 512;

/** Measures an idle pass once so the controller has a baseline before the first job. */
async function calibrate(models: ModelRunner): Promise<number> {
  const grid = await models.prior([1], 0, 8, 8);
  await models.decode(grid, 8, 8, CALIBRATION_SIDE / 2, CALIBRATION_SIDE / 2, passDetail(1, 2));
  const started = performance.now();
  await models.decode(grid, 8, 8, CALIBRATION_SIDE, CALIBRATION_SIDE, passDetail(2, 2));
  return ((performance.now() - started) * 1e6) / (CALIBRATION_SIDE * CALIBRATION_SIDE);
}

/** The running inference service; `fleet` is there when it runs one worker per slot. */
export interface RunningInference {
  close(): Promise<void>;
  fleet: WorkerFleet | null;
}

/**
 * The inference service: builds the models on first use, starts model threads (the gateway's
 * event loop never runs a model in embedded mode), the consumer loop and the saturation reports.
 */
export async function startInference(deps: InferenceDeps): Promise<RunningInference> {
  const bundle = await ensureModels({
    dir: deps.modelDir,
    onBuilt: (name, bytes, ms) => deps.log.info({ model: name, bytes, ms: Math.round(ms) }, 'model built'),
  });
  const threads = deps.modelThreads ?? Math.max(1, Math.min(deps.slots, availableParallelism()));
  const nice = deps.modelNice ?? 0;
  const models = await ModelPool.start(bundle, threads, nice);
  const unlowered = models.priorities.find((p) => !p.applied);
  if (nice > 0 && unlowered && !unlowered.applied)
    deps.log.warn({ reason: unlowered.reason }, 'model threads keep normal CPU priority');
  const baseline = await calibrate(models);
  const start = (id: string, infra: Infra, runner: ModelRunner, slots: number) =>
    startWorker(deps, { id, infra, models: runner, slots, baseline, bundle });
  const started = { slots: deps.slots, threads, nice, models: bundle.hash };
  if (deps.workerPerSlot) {
    const fleet = new WorkerFleet({
      baseId: deps.workerId,
      infra: deps.infra,
      models,
      startWorker: (id, infra, runner) => start(id, infra, runner, 1),
      startModels: () => ModelPool.start(bundle, 1, nice),
    });
    const ids = await fleet.start(deps.slots);
    deps.log.info({ ...started, workers: ids }, 'inference started, one worker per slot');
    return { fleet, close: () => fleet.close().finally(() => models.close()) };
  }
  const worker = await start(deps.workerId, deps.infra, models, deps.slots);
  deps.log.info({ ...started, workerId: deps.workerId, lanes: worker.lanes() }, 'inference started');
  return { fleet: null, close: () => worker.close().finally(() => models.close()) };
}

interface WorkerSetup {
  id: string;
  infra: Infra;
  models: ModelRunner;
  slots: number;
  /** The idle pass latency measured at start, so the controller has a baseline at once. */
  baseline: number;
  bundle: ModelBundle;
}

/** One consumer loop with its saturation reports. */
async function startWorker(
  deps: InferenceDeps,
  o: WorkerSetup,
): Promise<FleetWorker & { lanes(): string[] }> {
  const worker = new InferenceWorker({
    infra: o.infra,
    policy: deps.policy,
    log: deps.log,
    workerId: o.id,
    slots: o.slots,
    lanes: deps.lanes,
    models: o.models,
    categories: { text: o.bundle.textCategories, visual: o.bundle.visualCategories },
    leaseMs: deps.leaseMs,
  });
  worker.stats.calibrate(o.baseline);
  await worker.start();
  const stopSignals = startSignalReporter(
    o.infra.coord,
    () => worker.stats.signal(o.id, worker.lanes()),
    1000,
    (err) => deps.log.warn({ err }, 'signal report failed'),
  );
  return {
    lanes: () => worker.lanes(),
    close: async () => {
      stopSignals();
      await worker.close();
    },
    // A dead process stops reporting: its signal ages out of the controller's view.
    crash: async () => {
      stopSignals();
      await worker.crash();
    },
  };
}
