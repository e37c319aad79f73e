import { cpus, loadavg } from 'node:os';
import { load } from './bench-load.ts';
import { BenchServer, startBenchDependencies } from './bench-process.ts';
import { BENCH_KEYS, type BenchPorts } from './bench-server.ts';
import {
  type BenchTarget,
  quantile,
  type Round,
  roundOrder,
  formatSpread,
  summarise,
  type TargetSample,
  type TargetSummary,
} from './bench-stats.ts';

/**
 * `spillway bench gateway`: throughput of the admitted path (auth + limits + admission + durable
 * enqueue, answered 202) and of the shed path (429), each as a ratio to a bare Hono handler, plus
 * the p99 latency each adds. Two more references: `bare-429`, a bare handler sending the shed
 * path's own 429 (bench-server.ts), so the shed path's ratio to it separates the gateway's work
 * from the cost of the refusal the API requires; and `io-floor`, a bare handler doing only the
 * admitted path's limit count, store script and enqueue (bench-floor.ts), so the admitted path's
 * ratio to it is the gateway's own overhead and the floor's ratio to bare is the most this I/O
 * allows on the machine. The servers run in a child process, the load generator (undici over
 * loopback) in this one. Targets are measured in interleaved rounds after a warm-up, and every
 * ratio is taken within a round, so a neighbour's burst on the shared machine moves all targets
 * of that round alike; the report gives the median and the spread over rounds.
 *
 * Variants: `memory` (embedded adapters in the server process) and `distributed` (real Redis for
 * limits and records, real Kafka for the enqueue; both started here from common/dev-services).
 */
export type BenchVariant = 'memory' | 'distributed';

export interface BenchOptions {
  /** Throughput phase per target per round. */
  durationMs: number;
  /** Latency phase (one connection) per target per round. */
  latencyMs: number;
  rounds: number;
  /** Per target, before the first round (JIT, connection pools). */
  warmupMs: number;
  connections: number;
  pipelining: number;
  variants: BenchVariant[];
  print: boolean;
}

export interface BenchRow extends TargetSummary {
  variant: BenchVariant;
}

const TARGETS: readonly BenchTarget[] = ['bare', 'bare-429', 'io-floor', 'admitted', 'shed'];
const EXPECTED: Record<BenchTarget, number> = {
  bare: 202,
  'bare-429': 429,
  'io-floor': 202,
  admitted: 202,
  shed: 429,
};
const PORT: Record<BenchTarget, (p: BenchPorts) => number> = {
  bare: (p) => p.bare,
  'bare-429': (p) => p.bare429,
  'io-floor': (p) => p.ioFloor,
  admitted: (p) => p.gateway,
  shed: (p) => p.gateway,
};

const DEFAULTS: BenchOptions = {
  durationMs: 2000,
  latencyMs: 600,
  rounds: 5,
  warmupMs: 1000,
  connections: 16,
  pipelining: 1,
  variants: ['memory', 'distributed'],
  print: true,
};

/** The CLI passes no options: SPILLWAY_BENCH_ROUNDS, _DURATION_MS and _VARIANTS tune a run. */
function fromEnv(env: NodeJS.ProcessEnv): Partial<BenchOptions> {
  const o: Partial<BenchOptions> = {};
  if (env.SPILLWAY_BENCH_ROUNDS) o.rounds = Number(env.SPILLWAY_BENCH_ROUNDS);
  if (env.SPILLWAY_BENCH_DURATION_MS) o.durationMs = Number(env.SPILLWAY_BENCH_DURATION_MS);
  if (env.SPILLWAY_BENCH_VARIANTS)
    o.variants = env.SPILLWAY_BENCH_VARIANTS.split(',').map((v) => v.trim()) as BenchVariant[];
  return o;
}

async function measure(
  server: BenchServer,
  ports: BenchPorts,
  target: BenchTarget,
  o: BenchOptions,
): Promise<TargetSample> {
  const origin = `http://127.0.0.1:${PORT[target](ports)}`;
  const key = target === 'shed' ? BENCH_KEYS.shed : BENCH_KEYS.admitted;
  const cpuBefore = await server.cpuUs();
  const t = await load(origin, key, EXPECTED[target], o.connections, o.pipelining, o.durationMs);
  const serverCpuUs = (await server.cpuUs()) - cpuBefore;
  const l = await load(origin, key, EXPECTED[target], 1, 1, o.latencyMs);
  l.latencies.sort((a, b) => a - b);
  return {
    requests: t.requests,
    seconds: t.seconds,
    serverCpuUs,
    generatorCpuUs: t.generatorCpuUs,
    wrongStatus: t.wrong + l.wrong,
    p50Ms: quantile(l.latencies, 0.5),
    p99Ms: quantile(l.latencies, 0.99),
  };
}

async function runRounds(server: BenchServer, ports: BenchPorts, o: BenchOptions): Promise<Round[]> {
  for (const target of TARGETS) {
    await measure(server, ports, target, { ...o, durationMs: o.warmupMs, latencyMs: o.warmupMs / 4 });
  }
  const rounds: Round[] = [];
  for (let i = 0; i < o.rounds; i++) {
    const round: Partial<Round> = {};
    for (const target of roundOrder(i, TARGETS)) round[target] = await measure(server, ports, target, o);
    rounds.push(round as Round);
  }
  return rounds;
}

async function runVariant(variant: BenchVariant, o: BenchOptions): Promise<BenchRow[]> {
  const deps = variant === 'distributed' ? await startBenchDependencies() : null;
  if (deps && 'skipped' in deps) {
    if (o.print) process.stdout.write(`distributed variant skipped: ${deps.skipped}\n`);
    return [];
  }
  try {
    const { server, ports } = await BenchServer.start(deps?.env ?? {});
    try {
      if (ports.variant !== variant) throw new Error(`bench server ran ${ports.variant}, not ${variant}`);
      const rounds = await runRounds(server, ports, o);
      return TARGETS.map((target) => ({ variant, ...summarise(rounds, target) }));
    } finally {
      await server.stop();
    }
  } finally {
    await deps?.stop();
  }
}

export async function runGatewayBench(options: Partial<BenchOptions> = {}): Promise<BenchRow[]> {
  const o: BenchOptions = { ...DEFAULTS, ...fromEnv(process.env), ...options };
  const loadBefore = loadavg();
  if (o.print) printHeader(o, loadBefore);
  const rows: BenchRow[] = [];
  for (const variant of o.variants) {
    const got = await runVariant(variant, o);
    if (o.print && got.length > 0) printTable(variant, got);
    rows.push(...got);
  }
  if (o.print) {
    const l = loadavg();
    process.stdout.write(`load average after: ${l.map((x) => x.toFixed(2)).join(' ')}\n`);
    process.stdout.write('aim: admitted ≥ 0.25 × bare, shed ≥ 0.6 × bare (median ×bare)\n');
    process.stdout.write(
      'io-floor ×bare: the most any gateway doing the admitted path’s I/O could show here\n',
    );
  }
  return rows;
}

function printHeader(o: BenchOptions, load: number[]) {
  process.stdout.write(
    `gateway bench: ${o.rounds} interleaved rounds × (${o.durationMs} ms at ${o.connections} connections × pipelining ${o.pipelining}, then ${o.latencyMs} ms at 1 connection) per target, after ${o.warmupMs} ms warm-up\n` +
      `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), node ${process.version}, load average before: ${load.map((x) => x.toFixed(2)).join(' ')}\n`,
  );
}

const f = (n: number, digits = 2) => n.toFixed(digits);
const range = formatSpread;

function printTable(variant: BenchVariant, rows: BenchRow[]) {
  const out = process.stdout;
  out.write(`\n${variant}: median [min–max] over rounds\n`);
  out.write(
    `${'target'.padEnd(9)}${'rps'.padStart(20)}${'×bare'.padStart(20)}${'×bare-429'.padStart(20)}${'×io-floor'.padStart(20)}${'cpu µs/req'.padStart(22)}${'×bare by cpu'.padStart(20)}${'gen busy'.padStart(10)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'+p99 ms'.padStart(22)}${'wrong'.padStart(7)}\n`,
  );
  for (const r of rows) {
    out.write(
      `${r.target.padEnd(9)}${range(r.rps, 0).padStart(20)}${range(r.ratio).padStart(20)}${range(r.ratioToBare429).padStart(20)}${range(r.ratioToFloor).padStart(20)}${range(r.cpuUsPerRequest, 0).padStart(22)}${range(r.cpuRatio).padStart(20)}${f(r.generatorBusy.median).padStart(10)}${f(r.p50Ms.median).padStart(9)}${f(r.p99Ms.median).padStart(9)}${range(r.addedP99Ms).padStart(22)}${String(r.wrongStatus).padStart(7)}\n`,
    );
  }
}
