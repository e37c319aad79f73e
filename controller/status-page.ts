/**
 * The status page's HTML: tables of the current admission and signals, and uPlot charts of the
 * last minutes, refreshed every second from `${base}/api/state`. Plain script, no build step.
 */
export function statusPage(base: string): string {
  const b = JSON.stringify(base);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Spillway controller</title>
<link rel="stylesheet" href="${base}/assets/uplot.css">
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em;margin:0 0 .3em} h2{font-size:1.05em;margin:1.2em 0 .4em}
table{border-collapse:collapse} td,th{padding:.2em .7em;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td:first-child{text-align:left}
.open{color:#167a2a}.async-only{color:#b06d00}.shed{color:#b3261e;font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:1em} .muted{color:#777}
</style></head>
<body>
<h1>Spillway controller</h1>
<div id="summary" class="muted">loading…</div>
<h2>Admission (lane × tier)</h2><table id="admission"></table>
<h2>Signals</h2><table id="signals"></table>
<h2>Last minutes</h2>
<div class="charts"><div id="c-traffic"></div><div id="c-wait"></div><div id="c-sat"></div></div>
<h2>Reasons</h2><ul id="reasons"></ul>
<script src="${base}/assets/uplot.js"></script>
<script>
const BASE = ${b};
const charts = {};
window.__charts = charts;
const fmt = (x, d = 1) => x === null || x === undefined ? '–' : Number(x).toFixed(d);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'})[c]);
function chart(id, title, names, yLabel) {
  if (charts[id]) return charts[id];
  const colors = ['#1f77b4','#d62728','#2ca02c','#ff7f0e','#9467bd','#8c564b','#e377c2','#17becf'];
  const series = [{}].concat(names.map((n, i) => ({ label: n, stroke: colors[i % colors.length], width: 1.5 })));
  const data = [[]].concat(names.map(() => []));
  charts[id] = new uPlot({ title, width: 460, height: 220, series, axes: [{}, { label: yLabel }] },
    data, document.getElementById(id));
  return charts[id];
}
function render(s) {
  const st = s.status, pol = s.policy;
  const reloads = pol.status ? ' (' + pol.status.reloads.activated + ' activated, ' + pol.status.reloads.rejected + ' refused)' : '';
  const problems = pol.problems.map((p) =>
    '<br><span class="' + (p.startsWith('warning:') ? 'async-only' : 'shed') + '">' + esc(p) + '</span>').join('');
  document.getElementById('summary').innerHTML =
    'controller <b>' + esc(st.id) + '</b> · ' + (st.leader ? '<b>leader</b>' : 'standby') +
    ' · epoch ' + st.epoch + ' · state v' + st.version + ' · law <b>' + esc(st.law) + '</b>' +
    (st.resumedFrom ? ' · resumed epoch ' + st.resumedFrom.epoch + "'s memory (" + (st.resumedFrom.ageMs / 1000).toFixed(1) + ' s old)' : '') +
    ' · policy <code>' + esc(pol.version) + '</code>' + reloads +
    (st.lastError ? ' · <span class="shed">error: ' + esc(st.lastError) + '</span>' : '') + problems;
  const state = s.state, view = s.view;
  if (!state || !view) return;
  const tv = Object.fromEntries(view.tiers.map((t) => [t.lane + '/' + t.tier, t]));
  let rows = '<tr><th>lane/tier</th><th>mode</th><th>rate (cost/s)</th><th>brownout</th><th>edits</th>' +
    '<th>queue (jobs)</th><th>expected wait (s)</th><th>max wait (s)</th><th>offered/s</th><th>admitted/s</th><th>shed/s</th></tr>';
  for (const [lane, tiers] of Object.entries(state.lanes)) for (const [tier, a] of Object.entries(tiers)) {
    const t = tv[lane + '/' + tier] || {};
    rows += '<tr><td>' + esc(lane + '/' + tier) + '</td><td class="' + a.mode + '">' + a.mode + '</td><td>' +
      (a.rate === null ? '∞' : fmt(a.rate)) + '</td><td>' + a.brownout.level + '</td><td>' + (a.edits ? 'yes' : 'no') +
      '</td><td>' + fmt(t.backlogJobs, 0) + '</td><td>' + fmt(a.expectedWaitMs / 1000) + '</td><td>' +
      fmt(a.maxWaitMs / 1000, 0) + '</td><td>' + fmt(t.offered) + '</td><td>' + fmt(t.admitted) + '</td><td>' + fmt(t.shed) + '</td></tr>';
  }
  document.getElementById('admission').innerHTML = rows;
  let sig = '<tr><th>dependency</th><th>saturation</th><th>measured</th><th>target</th><th>age (s)</th></tr>';
  for (const [d, x] of Object.entries(view.saturation)) {
    sig += '<tr><td>' + d + '</td><td class="' + (x.value === null ? 'async-only' : x.value > 1 ? 'shed' : 'open') + '">' +
      (x.value === null ? 'unknown' : fmt(x.value, 2)) + '</td><td>' + fmt(x.measured, 2) + ' ' + esc(x.unit) +
      '</td><td>' + fmt(x.target, 2) + '</td><td>' + (x.ageMs === null ? '–' : fmt(x.ageMs / 1000)) + '</td></tr>';
  }
  sig += '<tr><td>capacity</td><td colspan="4">' + fmt(view.capacity.total) + ' cost/s from ' + view.capacity.workers +
    ' workers' + (view.capacity.heldSince ? ' (held: the last learned capacity)' : '') + ' · utilisation ' + fmt(view.capacity.utilisation === null ? null : view.capacity.utilisation * 100, 0) + ' %' +
    ' · sign-ups ' + fmt(state.signup.rate) + '/s</td></tr>';
  document.getElementById('signals').innerHTML = sig;
  document.getElementById('reasons').innerHTML = state.reasons.map((r) => '<li>' + esc(r) + '</li>').join('');
  const h = s.history;
  if (!h.length) return;
  const xs = h.map((x) => x.t / 1000);
  chart('c-traffic', 'cost units / s', ['capacity', 'offered', 'admitted', 'shed'], 'cost/s')
    .setData([xs, h.map((x) => x.capacity), h.map((x) => x.offered), h.map((x) => x.admitted), h.map((x) => x.shed)]);
  const keys = Object.keys(h[h.length - 1].waitSec);
  chart('c-wait', 'expected wait (s)', keys, 's').setData([xs].concat(keys.map((k) => h.map((x) => x.waitSec[k] ?? null))));
  const deps = Object.keys(h[h.length - 1].saturation);
  chart('c-sat', 'saturation (1 = target)', deps, '×').setData([xs].concat(deps.map((d) => h.map((x) => x.saturation[d] ?? null))));
}
async function refresh() {
  try {
    const r = await fetch(BASE + '/api/state', { cache: 'no-store' });
    if (r.ok) render(await r.json());
  } catch (e) { document.getElementById('summary').textContent = 'status unavailable: ' + e.message; }
}
refresh();
setInterval(refresh, 1000);
</script></body></html>`;
}
