import { availableParallelism } from 'node:os';
import type { Infra } from '../common/infra.ts';
import type { Logger } from '../common/log.ts';
import type { PolicySource } from '../common/policy/policy-source.ts';
import { ModelPool } from './model-pool.ts';
import { ensureModels } from './models/model-cache.ts';
import type { ModelRunner } from './model-runner.ts';
import { passDetail } from './render-plan.ts';
import { startSignalReporter } from './signals.ts';
import { InferenceWorker } from './worker.ts';

export interface InferenceDeps {
  infra: Infra;
  policy: PolicySource;
  log: Logger;
  workerId: string;
  slots: number;
  /** Lanes served; absent = every lane of the policy, followed as ops add or remove lanes. */
  lanes?: string[];
  /** Overrides for tests and tools; defaults suit production. */
  leaseMs?: number;
  modelDir?: string;
  modelThreads?: number;
  /** CPU nice value of the model threads (SPILLWAY_MODEL_NICE); 0 = same as the event loops. */
  modelNice?: number;
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

/**
 * The inference service: builds the models on first use, starts model threads (the gateway's
 * event loop never runs a model in embedded mode), the consumer loop and the saturation reports.
 */
export async function startInference(deps: InferenceDeps): Promise<{ close(): Promise<void> }> {
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
  const worker = new InferenceWorker({
    infra: deps.infra,
    policy: deps.policy,
    log: deps.log,
    workerId: deps.workerId,
    slots: deps.slots,
    lanes: deps.lanes,
    models,
    categories: { text: bundle.textCategories, visual: bundle.visualCategories },
    leaseMs: deps.leaseMs,
  });
  worker.stats.calibrate(await calibrate(models));
  await worker.start();
  const stopSignals = startSignalReporter(
    deps.infra.coord,
    () => worker.stats.signal(deps.workerId, worker.lanes()),
    1000,
    (err) => deps.log.warn({ err }, 'signal report failed'),
  );
  deps.log.info(
    {
      workerId: deps.workerId,
      slots: deps.slots,
      lanes: worker.lanes(),
      threads,
      nice,
      models: bundle.hash,
    },
    'inference started',
  );
  return {
    close: async () => {
      stopSignals();
      await worker.close();
      await models.close();
    },
  };
}
