import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/**
 * A self-contained HTML report: tables plus uPlot charts, with uPlot's script and stylesheet
 * inlined from node_modules so the page opens offline (no CDN). Shared by the runner and the
 * simulator, which describe their charts as data.
 */
export interface ChartSpec {
  title: string;
  /** x values in seconds since the start (or hours for the simulator; see xLabel). */
  x: number[];
  xLabel: string;
  yLabel: string;
  series: { label: string; values: (number | null)[]; dash?: boolean }[];
}

export interface TableSpec {
  title: string;
  head: string[];
  rows: (string | number)[][];
  /** Index of a column holding PASS/FAIL, coloured. */
  verdictColumn?: number;
}

export interface PageSpec {
  title: string;
  subtitle: string;
  tables: TableSpec[];
  charts: ChartSpec[];
}

const require = createRequire(import.meta.url);
const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
];

function esc(s: string | number): string {
  return String(s).replace(
    /[&<>"]/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!,
  );
}

function table(t: TableSpec): string {
  const head = t.head.map((h) => `<th>${esc(h)}</th>`).join('');
  const rows = t.rows
    .map((r) => {
      const cells = r.map((v, i) => {
        const cls = i === t.verdictColumn ? ` class="${v === 'PASS' ? 'pass' : 'fail'}"` : '';
        return `<td${cls}>${esc(v)}</td>`;
      });
      return `<tr>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<h2>${esc(t.title)}</h2><table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}

/** JSON inside a <script> must not close it. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

export async function renderPage(spec: PageSpec): Promise<string> {
  const [js, css] = await Promise.all([
    readFile(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  ]);
  const charts = spec.charts.map((c) => ({
    ...c,
    series: c.series.map((s, i) => ({ ...s, color: PALETTE[i % PALETTE.length] })),
  }));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(spec.title)}</title>
<style>${css}</style>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 20px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}.pass{color:#0a0;font-weight:bold}.fail{color:#c00;font-weight:bold}
.chart{margin:16px 0 28px}h1{margin-bottom:0}.sub{color:#666;margin-top:4px}
</style></head><body>
<h1>${esc(spec.title)}</h1><p class="sub">${esc(spec.subtitle)}</p>
${spec.tables.map(table).join('\n')}
<div id="charts"></div>
<script>${js}</script>
<script>
const CHARTS = ${scriptJson(charts)};
const root = document.getElementById('charts');
for (const c of CHARTS) {
  const box = document.createElement('div'); box.className = 'chart'; root.appendChild(box);
  const opts = {
    title: c.title, width: Math.min(1150, window.innerWidth - 60), height: 300,
    scales: { x: { time: false } },
    axes: [{ label: c.xLabel }, { label: c.yLabel }],
    series: [{ label: c.xLabel }].concat(c.series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, dash: s.dash ? [6, 4] : undefined, spanGaps: true }))),
  };
  new uPlot(opts, [c.x].concat(c.series.map((s) => s.values)), box);
}
document.body.dataset.charts = String(document.querySelectorAll('.uplot').length);
</script></body></html>`;
}
