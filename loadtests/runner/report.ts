import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Campaign } from '../campaign-schema.ts';
import { type ChartSpec, renderPage, type TableSpec } from '../report-page.ts';
import type { RunResult } from './campaign-run.ts';
import { describeCapacityStep } from './capacity-step.ts';
import { quantile } from './recorder.ts';
import { type Check, checkExpectations, type RunFigures, runFigures } from './verdict.ts';

/** A load-test report: Spillway's run, its baselines, figures, checks and the ratios between them. */
export interface LoadReport {
  campaign: string;
  generatedAt: string;
  capacity: number | null;
  runs: { run: RunResult; figures: RunFigures; checks: Check[] }[];
  /** Spillway's figure over each baseline's, for the figures where that ratio means something. */
  comparisons: { baseline: string; paidSuccessRatio: number | null; refusalP99Ratio: number | null }[];
  pass: boolean;
}

export function buildReport(c: Campaign, runs: RunResult[], capacity: number | null): LoadReport {
  const scored = runs.map((run) => {
    const figures = runFigures(run, c, capacity);
    return { run, figures, checks: checkExpectations(figures, c) };
  });
  const main = scored[0];
  const comparisons = scored.slice(1).map((b) => ({
    baseline: b.run.label,
    paidSuccessRatio:
      main.figures.paidSuccess !== null && b.figures.paidSuccess
        ? main.figures.paidSuccess / b.figures.paidSuccess
        : null,
    refusalP99Ratio: b.figures.refusalP99Ms ? main.figures.refusalP99Ms / b.figures.refusalP99Ms : null,
  }));
  return {
    campaign: c.name,
    generatedAt: new Date().toISOString(),
    capacity,
    runs: scored,
    comparisons,
    pass: main.checks.every((x) => x.pass),
  };
}

function tiersOf(run: RunResult): string[] {
  const tiers = new Set<string>();
  for (const k of Object.keys(run.totals)) tiers.add(k.split('/')[1]);
  return [...tiers].sort();
}

function perTierSeries(run: RunResult, tier: string, field: 'offered' | 'admitted' | 'completed' | 'shed') {
  return run.buckets.map((b) => {
    let n = 0;
    for (const [k, c] of Object.entries(b.byKey)) if (k.split('/')[1] === tier) n += c[field];
    return n;
  });
}

function runCharts(r: LoadReport['runs'][number]): ChartSpec[] {
  const { run } = r;
  const x = run.buckets.map((b) => b.second);
  const charts: ChartSpec[] = tiersOf(run).map((tier) => ({
    title: `${run.label} — ${tier}: offered vs admitted vs completed (req/s)`,
    x,
    xLabel: 's',
    yLabel: 'req/s',
    series: [
      { label: 'offered', values: perTierSeries(run, tier, 'offered') },
      { label: 'admitted', values: perTierSeries(run, tier, 'admitted') },
      { label: 'completed', values: perTierSeries(run, tier, 'completed') },
      { label: '429/503', values: perTierSeries(run, tier, 'shed'), dash: true },
    ],
  }));
  const lat = (tier: string | null, q: number) =>
    run.buckets.map((b) => {
      const v = (tier ? (b.latencies[tier] ?? []) : Object.values(b.latencies).flat()).sort((m, n) => m - n);
      return v.length ? quantile(v, q) : null;
    });
  charts.push({
    title: `${run.label} — latency of completed requests (from scheduled send)`,
    x,
    xLabel: 's',
    yLabel: 'ms',
    series: [
      ...tiersOf(run).map((t) => ({ label: `${t} p50`, values: lat(t, 0.5) })),
      ...tiersOf(run).map((t) => ({ label: `${t} p99`, values: lat(t, 0.99), dash: true })),
    ],
  });
  if (run.status.length) {
    const keys = [...new Set(run.status.flatMap((s) => Object.keys(s.admission)))].sort();
    charts.push({
      title: `${run.label} — controller: GPU utilisation (%) and brownout level ×10`,
      x: run.status.map((s) => Math.round(s.t / 100) / 10),
      xLabel: 's',
      yLabel: '',
      series: [
        {
          label: 'GPU %',
          values: run.status.map((s) => (s.gpuUtilisation === null ? null : s.gpuUtilisation * 100)),
        },
        ...keys.map((k) => ({
          label: `${k} brownout×10`,
          values: run.status.map((s) => (s.admission[k] ? s.admission[k].brownout * 10 : null)),
          dash: true,
        })),
      ],
    });
  }
  charts.push({
    title: `${run.label} — requests in flight`,
    x,
    xLabel: 's',
    yLabel: 'requests',
    series: [{ label: 'in flight', values: run.buckets.map((b) => b.inFlight) }],
  });
  return charts;
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)} %`);

function tables(rep: LoadReport): TableSpec[] {
  const out: TableSpec[] = [
    {
      title: 'Runs',
      head: [
        'run',
        'offered',
        'completed',
        'paid success',
        'free success',
        'refusal p99',
        'paid refused while free admitted',
        'GPU % overloaded',
        'recovery',
        'sender lag',
        'gateway loop lag p99',
        'CPU generator / target',
      ],
      rows: rep.runs.map(({ run, figures: f }) => [
        run.label,
        f.offered,
        f.completed,
        pct(f.paidSuccess),
        pct(f.freeSuccess),
        `${f.refusalP99Ms.toFixed(2)} ms`,
        `${f.paidRefusedWhileFreeAdmitted} s`,
        pct(f.gpuUtilisationOverloaded),
        f.recoverySeconds === null ? 'n/a' : `${f.recoverySeconds} s`,
        `${run.senderLagMs.toFixed(0)} ms`,
        f.loopLagP99Ms === null ? 'n/a' : `${f.loopLagP99Ms.toFixed(0)} ms`,
        `${f.generatorCpuShare.toFixed(2)} / ${f.targetCpuShare?.toFixed(2) ?? 'n/a'} cores`,
      ]),
    },
  ];
  const steps = rep.runs.filter(({ figures: f }) => f.capacityStep);
  if (steps.length)
    out.push({
      title: 'How admission followed the capacity step (the kill-workers fault and its undo)',
      head: ['run', 'what the controller estimated'],
      rows: steps.map(({ run, figures: f }) => [run.label, describeCapacityStep(f.capacityStep!)]),
    });
  for (const { run } of rep.runs) {
    const rows = Object.entries(run.endings ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .flatMap(([key, causes]) =>
        Object.entries(causes)
          .sort(([, x], [, y]) => y - x)
          .map(([cause, n]) => [key, cause, n]),
      );
    if (rows.length)
      out.push({
        title: `How requests ended — ${run.label}`,
        head: ['lane/tier', 'outcome', 'requests'],
        rows,
      });
  }
  for (const { run, checks } of rep.runs) {
    if (!checks.length) continue;
    out.push({
      title: `Expectations — ${run.label}`,
      head: ['check', 'expected', 'actual', 'verdict'],
      rows: checks.map((c) => [c.name, c.expected, c.actual, c.pass ? 'PASS' : 'FAIL']),
      verdictColumn: 3,
    });
  }
  if (rep.comparisons.length) {
    out.push({
      title: 'Spillway vs baselines (ratio Spillway / baseline)',
      head: ['baseline', 'paid success ratio', 'refusal p99 ratio'],
      rows: rep.comparisons.map((c) => [
        c.baseline,
        c.paidSuccessRatio?.toFixed(2) ?? 'n/a',
        c.refusalP99Ratio?.toFixed(2) ?? 'n/a',
      ]),
    });
  }
  const faults = rep.runs.flatMap(({ run }) =>
    run.faults.map((f) => [run.label, `${f.at / 1000} s`, f.kind, f.applied ? 'applied' : 'skipped', f.note]),
  );
  if (faults.length)
    out.push({ title: 'Faults', head: ['run', 'at', 'kind', 'outcome', 'note'], rows: faults });
  return out;
}

export async function writeReport(rep: LoadReport, outDir: string): Promise<{ json: string; html: string }> {
  await mkdir(outDir, { recursive: true });
  const stamp = rep.generatedAt.replace(/[:.]/g, '-');
  const base = join(outDir, `${rep.campaign}-${stamp}`);
  const html = await renderPage({
    title: `Spillway load test — ${rep.campaign}`,
    subtitle: `${rep.generatedAt} · capacity ${rep.capacity?.toFixed(2) ?? 'n/a'} req/s · ${rep.pass ? 'all expectations met' : 'expectations NOT met'}`,
    tables: tables(rep),
    charts: rep.runs.flatMap(runCharts),
  });
  await writeFile(`${base}.json`, JSON.stringify(rep, null, 1));
  await writeFile(`${base}.html`, html);
  return { json: `${base}.json`, html: `${base}.html` };
}
