import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChartSpec, renderPage, type TableSpec } from '../report-page.ts';
import type { SimResult } from './simulate.ts';

/** The simulator's report: per-tier availability, waits, GPU use and shedding, with plots. */
const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)} %`);
const big = (x: number) =>
  x >= 1e6 ? `${(x / 1e6).toFixed(1)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0);
const secs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

function tables(results: SimResult[]): TableSpec[] {
  const summary: TableSpec = {
    title: 'Summary',
    head: [
      'controller',
      'paid availability',
      'GPU use',
      'GPU use while overloaded',
      'paid refused while free admitted',
      'sign-ups admitted',
      'recovery',
      'wall time',
    ],
    rows: results.map((r) => [
      r.controller,
      pct(r.paidAvailability),
      pct(r.gpuUtilisation),
      pct(r.gpuUtilisationOverloaded),
      `${r.paidRefusedWhileFreeAdmittedTicks * (r.tickMs / 1000)} s`,
      `${big(r.signups.admitted)} of ${big(r.signups.offered)}`,
      r.recoverySeconds === null ? 'n/a' : `${r.recoverySeconds} s`,
      secs(r.wallMs),
    ]),
  };
  const tiers: TableSpec = {
    title: 'Per tier',
    head: [
      'controller',
      'tier',
      'offered',
      'completed',
      'availability',
      '429s (attempts)',
      'refused for good',
      'expired',
      'wait p50',
      'wait p90',
      'wait p99',
    ],
    rows: results.flatMap((r) =>
      Object.entries(r.tiers).map(([t, f]) => [
        r.controller,
        t,
        big(f.offered),
        big(f.completed),
        pct(f.availability),
        big(f.shedAttempts),
        big(f.refusedFinal + f.gaveUp),
        big(f.expired),
        secs(f.waitP50Ms),
        secs(f.waitP90Ms),
        secs(f.waitP99Ms),
      ]),
    ),
  };
  const faults = results[0]?.faults ?? [];
  const out = [summary, tiers];
  if (faults.length) {
    out.push({
      title: 'Faults',
      head: ['at', 'kind', 'outcome', 'note'],
      rows: faults.map((f) => [
        `${(f.at / 3_600_000).toFixed(2)} h`,
        f.kind,
        f.applied ? 'applied' : 'skipped',
        f.note,
      ]),
    });
  }
  return out;
}

function charts(r: SimResult): ChartSpec[] {
  const s = r.series;
  const tiers = Object.keys(s.offered);
  const x = s.x;
  return [
    ...tiers.map((t) => ({
      title: `${r.controller} — ${t}: offered vs admitted vs completed (req/s)`,
      x,
      xLabel: 'hours',
      yLabel: 'req/s',
      series: [
        { label: 'offered', values: s.offered[t] },
        { label: 'admitted', values: s.admitted[t] },
        { label: 'completed', values: s.completed[t] },
        { label: '429s', values: s.shed[t], dash: true },
        { label: 'expired', values: s.expired[t], dash: true },
      ],
    })),
    {
      title: `${r.controller} — GPU capacity (cost/s): actual, controller's estimate`,
      x,
      xLabel: 'hours',
      yLabel: 'cost/s',
      series: [
        { label: 'capacity', values: s.capacity },
        { label: 'estimated', values: s.estimatedCapacity, dash: true },
      ],
    },
    {
      title: `${r.controller} — GPU utilisation (%) and brownout level ×10`,
      x,
      xLabel: 'hours',
      yLabel: '',
      series: [
        { label: 'GPU %', values: s.gpuUtilisation.map((u) => u * 100) },
        ...Object.entries(s.brownout).map(([k, v]) => ({
          label: `${k} brownout×10`,
          values: v.map((l) => l * 10),
          dash: true,
        })),
      ],
    },
    {
      title: `${r.controller} — mean queue wait so far (ms) and backlog (cost units)`,
      x,
      xLabel: 'hours',
      yLabel: '',
      series: [
        ...tiers.map((t) => ({ label: `${t} wait`, values: s.waitMeanMs[t] })),
        { label: 'backlog', values: s.backlog, dash: true },
      ],
    },
  ];
}

export async function writeSimReport(
  results: SimResult[],
  outDir: string,
): Promise<{ json: string; html: string }> {
  await mkdir(outDir, { recursive: true });
  const name = results[0].campaign;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const base = join(outDir, `simulate-${name}-${stamp}`);
  const html = await renderPage({
    title: `Spillway simulation — ${name}`,
    subtitle: `${(results[0].simulatedMs / 3_600_000).toFixed(1)} simulated hours, ${results[0].ticks} control intervals of ${results[0].tickMs} ms`,
    tables: tables(results),
    charts: results.flatMap(charts),
  });
  await writeFile(`${base}.json`, JSON.stringify(results, null, 1));
  await writeFile(`${base}.html`, html);
  return { json: `${base}.json`, html: `${base}.html` };
}
