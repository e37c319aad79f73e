import pino from 'pino';
import type { JobMessage } from '../common/contracts/index.ts';
import { jobTopic, newJobRecord } from '../common/contracts/index.ts';
import { createMemoryInfra } from '../common/memory-infra.ts';
import { loadPolicyDir } from '../common/policy/loader.ts';
import { StaticPolicySource } from '../common/policy/policy-source.ts';
import { ensureModels } from './models/model-cache.ts';
import type { ModelRunner } from './model-runner.ts';
import { OnnxModels } from './onnx-models.ts';
import { runPipeline } from './pipeline.ts';
import { passDetail, planRender } from './render-plan.ts';
import { tokenize } from './tokenizer.ts';
import { InferenceWorker } from './worker.ts';

export interface InferenceBenchOptions {
  sizes?: number[];
  jobsPerSize?: number;
  passReps?: number;
  policyDir?: string;
  print?: (line: string) => void;
}

export interface PassRow {
  side: number;
  medianMs: number;
  msPerMegapixel: number;
}

export interface JobRow {
  side: number;
  passes: number;
  jobs: number;
  /** Jobs per CPU second of this process while a worker slot ran them back to back. */
  jobsPerSecPerCore: number;
  /** One job alone, claim to finish (latency view). */
  meanJobMs: number;
  /** One job alone: share of its wall time with no model running (the latency it adds). */
  outsideModelsShare: number;
  /** Jobs back to back through one worker slot: share of wall time with no model running. */
  streamOutsideModelsShare: number;
}

/**
 * Wall time during which at least one model call runs (overlapping calls count once), to tell
 * model time from pipeline overhead.
 */
interface Timed {
  /** Wall time with at least one model call running. */
  ms: number;
  /** Start of the first and end of the last model call (performance.now()). */
  first: number;
  last: number;
}

function timed(inner: ModelRunner): ModelRunner & Timed {
  const t = { ms: 0, first: 0, last: 0 } as ModelRunner & Timed;
  let active = 0;
  let since = 0;
  // A render pass encodes stored passes inside the model call: that encoding counts as model time.
  for (const name of ['moderatePrompt', 'prior', 'renderPass', 'decode', 'encode'] as const) {
    (t as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      if (active++ === 0) since = performance.now();
      if (t.first === 0) t.first = since;
      try {
        return await (inner[name] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
      } finally {
        t.last = performance.now();
        if (--active === 0) t.ms += t.last - since;
      }
    };
  }
  t.close = () => inner.close();
  return t;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function message(side: number, i: number, tag = ''): JobMessage {
  const now = Date.now();
  return {
    v: 1,
    id: `job_bench${tag}${String(i).padStart(16, '0')}${side}`,
    account: 'bench',
    tier: 'pro',
    lane: 'api',
    operation: 'generate',
    cost: 1,
    prompt: `a lighthouse on a cliff at dusk, study ${i}`,
    inputImages: [],
    deadline: now + 600_000,
    attempt: 0,
    trace: { traceparent: '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01' },
    brownout: null,
    createdAt: now,
    params: {
      model: 'gpt-image-1',
      size: `${side}x${side}`,
      quality: 'auto',
      outputFormat: 'png',
      background: 'auto',
      partialImages: 3,
      n: 1,
      seed: i,
      responseFormat: 'b64_json',
    },
  };
}

/**
 * `count` jobs published at once to a one-slot worker on memory adapters (queue, claims, partials,
 * PNG encoding, checkpoints included): the slot goes to the next job once a job's models are done,
 * so the share of wall time with no model running is what a GPU slot would idle. Measured in steady
 * state, from the first model call to the last (the worker's first-message warm-up and the last
 * job's tail, which nothing follows, are left out); CPU time covers the whole run.
 */
async function streamThroughWorker(
  side: number,
  count: number,
  models: ModelRunner & Timed,
  policy: StaticPolicySource,
  categories: { text: string[]; visual: string[] },
): Promise<{ wallMs: number; modelMs: number; cpuMs: number }> {
  const infra = createMemoryInfra();
  const worker = new InferenceWorker({
    infra,
    policy,
    log: pino({ level: 'silent' }),
    workerId: 'bench',
    slots: 1,
    lanes: ['api'],
    models,
    categories,
    leaseMs: 60_000,
  });
  await worker.start();
  const messages = Array.from({ length: count }, (_, i) => message(side, i, 's'));
  for (const [i, m] of messages.entries())
    await infra.jobs.create(newJobRecord(m, await infra.jobs.nextTicket('api', 'pro'), 0, Date.now() + i));
  const modelBefore = models.ms;
  models.first = 0;
  const cpuBefore = process.cpuUsage();
  for (const m of messages)
    await infra.queue.publish(jobTopic('api', 'pro'), {
      key: m.id,
      value: Buffer.from(JSON.stringify(m)),
      headers: {},
    });
  while (worker.stats.jobsFinished < count) await new Promise((r) => setTimeout(r, 1));
  const cpu = process.cpuUsage(cpuBefore);
  const out = {
    wallMs: models.last - models.first,
    modelMs: models.ms - modelBefore,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
  await worker.close();
  return out;
}

/**
 * Inference benchmark on one slot (one intra-op thread): decoder pass latency per size; one job
 * alone through the real pipeline with memory adapters (partials, PNG encoding, checkpoints
 * included) and the share of its time spent outside the models; then jobs back to back through a
 * one-slot worker, the share of wall time the models sit idle, and jobs per CPU second.
 */
export async function runInferenceBench(options: InferenceBenchOptions = {}) {
  const sizes = options.sizes ?? [256, 512, 1024];
  const jobsPerSize = options.jobsPerSize ?? 5;
  const reps = options.passReps ?? 5;
  const print = options.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  const bundle = await ensureModels();
  const policy = (await loadPolicyDir(options.policyDir ?? 'policies')).policy;
  const onnx = await OnnxModels.load(bundle, 1);
  const models = timed(onnx);
  const categories = { text: bundle.textCategories, visual: bundle.visualCategories };

  const passRows: PassRow[] = [];
  const grid = await onnx.prior(tokenize('calibration'), 1, 16, 16);
  for (const side of [128, 256, 512, 1024]) {
    const samples: number[] = [];
    for (let r = 0; r < reps + 1; r++) {
      const started = performance.now();
      await onnx.decode(grid, 16, 16, side, side, passDetail(4, 4));
      if (r > 0) samples.push(performance.now() - started);
    }
    const ms = median(samples);
    passRows.push({ side, medianMs: ms, msPerMegapixel: (ms * 1e6) / (side * side) });
  }

  const jobRows: JobRow[] = [];
  const source = new StaticPolicySource({ policy, version: 'bench', files: [], loadedAt: Date.now() });
  for (const side of sizes) {
    const infra = createMemoryInfra();
    let total = 0;
    let modelMs = 0;
    let passes = 0;
    for (let i = 0; i <= jobsPerSize; i++) {
      const m = message(side, i);
      await infra.jobs.create(newJobRecord(m, i + 1, 0, Date.now()));
      const claim = await infra.jobs.claim(m.id, 'bench', 60_000, Date.now());
      if (!claim.ok) throw new Error('bench claim refused');
      const plan = planRender(m, claim.record, policy);
      passes = plan.passes;
      const before = models.ms;
      const started = performance.now();
      await runPipeline(
        { jobs: infra.jobs, events: infra.events, blobs: infra.blobs, models, categories, leaseMs: 60_000 },
        { record: claim.record, fence: claim.fence, plan, signal: new AbortController().signal },
      );
      // Job 0 warms caches and is not counted.
      if (i === 0) continue;
      total += performance.now() - started;
      modelMs += models.ms - before;
    }
    const stream = await streamThroughWorker(side, jobsPerSize, models, source, categories);
    jobRows.push({
      side,
      passes,
      jobs: jobsPerSize,
      jobsPerSecPerCore: (jobsPerSize * 1000) / stream.cpuMs,
      meanJobMs: total / jobsPerSize,
      outsideModelsShare: 1 - modelMs / total,
      streamOutsideModelsShare: 1 - stream.modelMs / stream.wallMs,
    });
  }
  await onnx.close();

  print('decoder pass latency (1 core)');
  print('  side   median ms   ms/megapixel');
  for (const r of passRows) {
    print(
      `  ${String(r.side).padStart(4)}   ${r.medianMs.toFixed(1).padStart(9)}   ${r.msPerMegapixel.toFixed(1).padStart(12)}`,
    );
  }
  print('jobs (1 slot, partial_images 3, png): one alone, then back to back through a worker');
  print('  size        passes  jobs  jobs/cpu-s  alone ms  alone outside models  stream outside models');
  const pct = (x: number, w: number) => `${(x * 100).toFixed(1).padStart(w)}%`;
  for (const r of jobRows) {
    print(
      `  ${`${r.side}x${r.side}`.padEnd(10)}  ${String(r.passes).padStart(6)}  ${String(r.jobs).padStart(4)}  ${r.jobsPerSecPerCore.toFixed(2).padStart(10)}  ${r.meanJobMs.toFixed(0).padStart(8)}  ${pct(r.outsideModelsShare, 19)}  ${pct(r.streamOutsideModelsShare, 20)}`,
    );
  }
  return { passes: passRows, jobs: jobRows };
}
