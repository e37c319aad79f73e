import { createMemoryInfra } from '../common/memory-infra.ts';
import { loadPolicyDir } from '../common/policy/loader.ts';
import { ensureModels } from './models/model-cache.ts';
import type { ModelRunner } from './model-runner.ts';
import { OnnxModels } from './onnx-models.ts';
import { runPipeline } from './pipeline.ts';
import { passDetail, planRender } from './render-plan.ts';
import { tokenize } from './tokenizer.ts';
import { newJobRecord } from '../common/contracts/index.ts';
import type { JobMessage } from '../common/contracts/index.ts';

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
  jobsPerSecPerCore: number;
  meanJobMs: number;
  outsideModelsShare: number;
}

/**
 * Wall time during which at least one model call runs (overlapping calls count once), to tell
 * model time from pipeline overhead.
 */
function timed(inner: ModelRunner): ModelRunner & { ms: number } {
  const t = { ms: 0 } as ModelRunner & { ms: number };
  let active = 0;
  let since = 0;
  for (const name of ['moderatePrompt', 'prior', 'decode', 'moderateImage', 'encode'] as const) {
    (t as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      if (active++ === 0) since = performance.now();
      try {
        return await (inner[name] as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
      } finally {
        if (--active === 0) t.ms += performance.now() - since;
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

function message(side: number, i: number): JobMessage {
  const now = Date.now();
  return {
    v: 1,
    id: `job_bench${String(i).padStart(16, '0')}${side}`,
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
 * Inference benchmark on one core (one intra-op thread, one job at a time): decoder pass latency
 * per size, whole jobs per second through the real pipeline with memory adapters (partials,
 * PNG encoding, checkpoints included), and the share of job time spent outside the models.
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
    jobRows.push({
      side,
      passes,
      jobs: jobsPerSize,
      jobsPerSecPerCore: (jobsPerSize * 1000) / total,
      meanJobMs: total / jobsPerSize,
      outsideModelsShare: 1 - modelMs / total,
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
  print('jobs through the pipeline (1 core, partial_images 3, png)');
  print('  size        passes  jobs  jobs/s/core  mean ms  outside models');
  for (const r of jobRows) {
    print(
      `  ${`${r.side}x${r.side}`.padEnd(10)}  ${String(r.passes).padStart(6)}  ${String(r.jobs).padStart(4)}  ${r.jobsPerSecPerCore.toFixed(2).padStart(11)}  ${r.meanJobMs.toFixed(0).padStart(7)}  ${(r.outsideModelsShare * 100).toFixed(1).padStart(13)}%`,
    );
  }
  return { passes: passRows, jobs: jobRows };
}
