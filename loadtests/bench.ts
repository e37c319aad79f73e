import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Campaign, parseCampaign } from './campaign-schema.ts';
import { runLoadtest } from './runner/loadtest.ts';

/**
 * The benchmark aggregator (`spillway bench`): the gateway's and inference's own benches, plus
 * goodput at 1×, 2×, 5× and 10× the embedded stack's measured capacity with a paid/free mix,
 * each against Spillway, the no-shedding baseline and the static limiter in the same run.
 * Writes loadtests/results/bench.json.
 */
export const OVERLOADS = [1, 2, 5, 10] as const;

export interface GoodputRow {
  overload: number;
  run: string;
  paidSuccess: number | null;
  freeSuccess: number | null;
  gpuUtilisation: number | null;
  refusalP99Ms: number;
  completedPerSecond: number;
}

export interface BenchResults {
  generatedAt: string;
  gateway: unknown;
  inference: unknown;
  goodput: { capacity: number; rows: GoodputRow[] } | null;
  missing: string[];
}

function goodputCampaign(overload: number, seconds: number): Campaign {
  return parseCampaign({
    name: `goodput-${overload}x`,
    rateUnit: 'capacity',
    // 512² like launch-day: each request costs the "GPU" far more than the gateway, as on real
    // hardware. At 256² a 10× overload is ~900 requests/s here and the gateway's own CPU, not the
    // GPU, becomes what is overloaded.
    mix: [
      { lane: 'chat', tier: 'pro', weight: 1, size: '512x512' },
      { lane: 'chat', tier: 'plus', weight: 1, size: '512x512' },
      { lane: 'chat', tier: 'free', weight: 6, size: '512x512' },
    ],
    stages: [{ name: `${overload}x`, duration: `${seconds}s`, rate: overload }],
    client: { giveUpAfter: '30s', maxRetries: 0 },
  });
}

/** Measures the capacity once, then every overload against all three admission modes. */
export async function runGoodput(
  o: { seconds?: number; capacity?: number; print?: (l: string) => void } = {},
) {
  const print = o.print ?? ((l: string) => process.stdout.write(`${l}\n`));
  let capacity = o.capacity;
  const rows: GoodputRow[] = [];
  for (const overload of OVERLOADS) {
    const { report } = await runLoadtest({
      campaign: goodputCampaign(overload, o.seconds ?? 15),
      baselines: true,
      capacity,
    });
    capacity ??= report.capacity ?? undefined;
    for (const { run, figures } of report.runs) {
      rows.push({
        overload,
        run: run.label,
        paidSuccess: figures.paidSuccess,
        freeSuccess: figures.freeSuccess,
        gpuUtilisation: figures.gpuUtilisationOverloaded,
        refusalP99Ms: figures.refusalP99Ms,
        completedPerSecond: figures.completed / (run.durationMs / 1000),
      });
    }
  }
  const pct = (x: number | null) => (x === null ? '   n/a' : `${(x * 100).toFixed(1).padStart(5)}%`);
  print(`goodput at multiples of measured capacity (${capacity?.toFixed(2)} req/s)`);
  print('overload  run                             paid ok  free ok  GPU use  refusal p99  completed/s');
  for (const r of rows) {
    print(
      `${`${r.overload}×`.padEnd(9)} ${r.run.padEnd(31)} ${pct(r.paidSuccess)}   ${pct(r.freeSuccess)}   ${pct(r.gpuUtilisation)}  ${r.refusalP99Ms.toFixed(2).padStart(8)} ms  ${r.completedPerSecond.toFixed(2).padStart(8)}`,
    );
  }
  return { capacity: capacity ?? 0, rows };
}

async function optionalBench(
  name: string,
  load: () => Promise<unknown>,
  missing: string[],
): Promise<unknown> {
  try {
    return await load();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    missing.push(name);
    process.stderr.write(`bench: ${name} bench is not available in this build (${(err as Error).message})\n`);
    return null;
  }
}

/** `suites` empty = all of gateway, inference and goodput. */
export async function runBenchmarks(
  suites: string[] = [],
  outDir = 'loadtests/results',
): Promise<BenchResults> {
  const want = (s: string) => suites.length === 0 || suites.includes(s);
  const missing: string[] = [];
  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    gateway: want('gateway')
      ? await optionalBench(
          'gateway',
          async () => (await import('../gateway/bench.ts')).runGatewayBench(),
          missing,
        )
      : null,
    inference: want('inference')
      ? await optionalBench(
          'inference',
          async () => (await import('../inference/bench.ts')).runInferenceBench(),
          missing,
        )
      : null,
    goodput: want('goodput') ? await runGoodput() : null,
    missing,
  };
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'bench.json'), JSON.stringify(results, null, 1));
  return results;
}
