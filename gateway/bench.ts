import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { BENCH_KEYS } from './bench-server.ts';

/**
 * `spillway bench gateway`: throughput of the admitted path (auth + limits + admission + durable
 * enqueue, answered 202) and of the shed path (429), each as a ratio to a bare Hono handler in the
 * same run on the same machine, plus the p99 latency each adds. The servers run in a child
 * process; the load comes from undici over loopback for a few seconds per target.
 */
export interface BenchOptions {
  durationMs: number;
  connections: number;
  pipelining: number;
  print: boolean;
}

export interface BenchRow {
  target: 'bare' | 'admitted' | 'shed';
  requests: number;
  rps: number;
  ratio: number;
  p50Ms: number;
  p99Ms: number;
  addedP99Ms: number;
  wrongStatus: number;
}

const DEFAULTS: BenchOptions = { durationMs: 3000, connections: 32, pipelining: 4, print: true };

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function load(origin: string, key: string, expected: number, o: BenchOptions) {
  const pool = new Pool(origin, { connections: o.connections, pipelining: o.pipelining });
  const body = JSON.stringify({ prompt: 'a lighthouse at dawn', size: '1024x1024' });
  const headers = {
    'content-type': 'application/json',
    authorization: `Bearer ${key}`,
    prefer: 'respond-async',
  };
  const latencies: number[] = [];
  let wrong = 0;
  const deadline = performance.now() + o.durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const started = performance.now();
      const res = await pool.request({
        origin,
        path: '/v1/images/generations',
        method: 'POST',
        headers,
        body,
      });
      await res.body.dump();
      latencies.push(performance.now() - started);
      if (res.statusCode !== expected) wrong++;
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: o.connections * o.pipelining }, worker));
  const elapsed = (performance.now() - began) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: latencies.length / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    wrong,
  };
}

export async function runGatewayBench(options: Partial<BenchOptions> = {}): Promise<BenchRow[]> {
  const o = { ...DEFAULTS, ...options };
  const server = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./bench-server.ts', import.meta.url))],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, SPILLWAY_LOG_LEVEL: 'silent' },
    },
  );
  try {
    const [line] = (await once(server.stdout!, 'data')) as [Buffer];
    const ports = JSON.parse(line.toString().trim().split('\n')[0]) as { gateway: number; bare: number };
    const warm = { ...o, durationMs: Math.min(500, o.durationMs / 4) };
    await load(`http://127.0.0.1:${ports.bare}`, BENCH_KEYS.admitted, 202, warm);
    await load(`http://127.0.0.1:${ports.gateway}`, BENCH_KEYS.admitted, 202, warm);
    const bare = await load(`http://127.0.0.1:${ports.bare}`, BENCH_KEYS.admitted, 202, o);
    const admitted = await load(`http://127.0.0.1:${ports.gateway}`, BENCH_KEYS.admitted, 202, o);
    const shed = await load(`http://127.0.0.1:${ports.gateway}`, BENCH_KEYS.shed, 429, o);
    const row = (target: BenchRow['target'], r: typeof bare): BenchRow => ({
      target,
      requests: r.requests,
      rps: Math.round(r.rps),
      ratio: Number((r.rps / bare.rps).toFixed(3)),
      p50Ms: Number(r.p50.toFixed(2)),
      p99Ms: Number(r.p99.toFixed(2)),
      addedP99Ms: Number((r.p99 - bare.p99).toFixed(2)),
      wrongStatus: r.wrong,
    });
    const rows = [row('bare', bare), row('admitted', admitted), row('shed', shed)];
    if (o.print) printTable(rows, o);
    return rows;
  } finally {
    server.stdin!.end();
    await Promise.race([once(server, 'exit'), new Promise((r) => setTimeout(r, 3000))]);
    if (server.exitCode === null) server.kill();
  }
}

function printTable(rows: BenchRow[], o: BenchOptions) {
  const out = process.stdout;
  out.write(
    `gateway bench: ${o.durationMs} ms per target, ${o.connections} connections × pipelining ${o.pipelining}\n`,
  );
  out.write('target     requests      rps   ×bare   p50 ms   p99 ms  +p99 ms  wrong\n');
  for (const r of rows) {
    out.write(
      `${r.target.padEnd(9)} ${String(r.requests).padStart(9)} ${String(r.rps).padStart(8)} ${r.ratio.toFixed(2).padStart(7)} ${r.p50Ms.toFixed(2).padStart(8)} ${r.p99Ms.toFixed(2).padStart(8)} ${r.addedP99Ms.toFixed(2).padStart(8)} ${String(r.wrongStatus).padStart(6)}\n`,
    );
  }
  out.write('aim: admitted ≥ 0.25 × bare, shed ≥ 0.6 × bare\n');
}
