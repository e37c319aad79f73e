import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobTopic } from '../../common/contracts/index.ts';
import { createMemoryInfra } from '../../common/memory-infra.ts';
import { StaticPolicySource } from '../../common/policy/policy-source.ts';
import { estimateCapacity } from '../../controller/capacity.ts';
import { dependencySaturations } from '../../controller/saturation.ts';
import { OnnxModels } from '../../inference/onnx-models.ts';
import { passDetail } from '../../inference/render-plan.ts';
import { WorkerStats } from '../../inference/signals.ts';
import { InferenceWorker } from '../../inference/worker.ts';
import { enqueue, jobMessage, testModels, testPolicy } from './fixtures.ts';
import { until } from '../support/until.ts';

let models: OnnxModels;
let categories: { text: string[]; visual: string[] };

beforeAll(async () => {
  const bundle = await testModels();
  models = await OnnxModels.load(bundle);
  categories = { text: bundle.textCategories, visual: bundle.visualCategories };
});
afterAll(() => models.close());

describe('worker signal as the controller reads it', () => {
  it('retires the cost of every finished job, so the learned cost per job is the admitted one', async () => {
    const active = await testPolicy();
    const infra = createMemoryInfra();
    const worker = new InferenceWorker({
      infra,
      policy: new StaticPolicySource(active),
      log: pino({ level: 'silent' }),
      workerId: 'w1',
      slots: 1,
      lanes: ['api'],
      models,
      categories,
    });
    const opts = { intervalMs: 1000, maxAgeMs: 5000, laneShares: { api: 1 }, backlogByLane: { api: 0 } };
    const first = estimateCapacity([worker.stats.signal('w1', ['api'])], null, Date.now(), opts);
    await worker.start();
    // One completes, one is blocked at the prompt: both were admitted at cost 2 and leave the queue.
    const jobs = [jobMessage({ cost: 2 }), jobMessage({ cost: 2, prompt: 'a massacre in the valley' })];
    for (const m of jobs) {
      await enqueue(infra, m);
      await infra.queue.publish(jobTopic('api', 'pro'), {
        key: m.id,
        value: Buffer.from(JSON.stringify(m)),
        headers: {},
      });
    }
    await until(() => worker.stats.jobsFinished === 2);
    await new Promise((r) => setTimeout(r, 5));
    const after = worker.stats.signal('w1', ['api']);
    expect((await infra.jobs.get(jobs[1].id))?.state).toBe('blocked');
    const second = estimateCapacity([after], first.memory, after.at, opts);
    expect(second.estimate.jobCost).toBe(2);
    await worker.close();
  });

  it('reports pass latency per megapixel: an idle worker reads about 1× its baseline at any size', async () => {
    const active = await testPolicy();
    const grid = await models.prior([1, 2, 3], 1, 8, 8);
    const timePass = async (side: number) => {
      const started = performance.now();
      await models.decode(grid, 8, 8, side, side, passDetail(4, 4));
      return performance.now() - started;
    };
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const side of [256, 1024]) {
      // The machine is shared: baseline and sized passes alternate so a burst elsewhere falls on
      // both, and the medians of five drop what one sample caught. The first pair warms up.
      const baseline: number[] = [];
      const sized: number[] = [];
      for (let i = 0; i < 6; i++) {
        const [b, t] = [await timePass(512), await timePass(side)];
        if (i === 0) continue;
        baseline.push(b);
        sized.push(t);
      }
      const stats = new WorkerStats(1);
      // What the service's calibration does: an idle 512² pass, normalised.
      stats.calibrate((median(baseline) * 1e6) / (512 * 512));
      stats.recordPass(side, side, median(sized));
      const signal = stats.signal('w1', ['api']);
      const gpu = dependencySaturations([signal], [], null, null, active.policy, signal.at).gpu;
      // In ms per pass the 1024² pass would read 4× the 512² baseline (and a 256² one ¼).
      expect(gpu.measured).toBeGreaterThan(0.5);
      expect(gpu.measured).toBeLessThan(2);
    }
  });
});
