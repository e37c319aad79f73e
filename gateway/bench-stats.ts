/**
 * The arithmetic of the gateway benchmark, kept apart from the load so it can be tested: each
 * round measures every target once, ratios are taken within a round (the same minute of a shared,
 * noisy machine), and the rounds are summarised by their median and spread.
 */
export type BenchTarget = 'bare' | 'bare-429' | 'io-floor' | 'admitted' | 'shed';

/** One target in one round: a throughput phase (many connections) and a latency phase (one). */
export interface TargetSample {
  requests: number;
  seconds: number;
  /** Server process CPU spent during the throughput phase. */
  serverCpuUs: number;
  /** Load generator CPU spent during the throughput phase. */
  generatorCpuUs: number;
  wrongStatus: number;
  /** Latency phase: one request at a time, so the figures are service time, not queueing. */
  p50Ms: number;
  p99Ms: number;
}

export type Round = Record<BenchTarget, TargetSample>;

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export interface TargetSummary {
  target: BenchTarget;
  rounds: number;
  requests: number;
  rps: Spread;
  /** Throughput ÷ bare throughput of the same round. */
  ratio: Spread;
  /** Throughput ÷ the bare 429's (the shed refusal sent by a bare handler) of the same round. */
  ratioToBare429: Spread;
  /** Throughput ÷ the I/O floor's (the admitted path's store and queue work alone) of the same round. */
  ratioToFloor: Spread;
  /** Server CPU per request (µs): what the path costs, whatever else loads the machine. */
  cpuUsPerRequest: Spread;
  /** Bare CPU per request ÷ this target's: the throughput ratio a server-bound run would show. */
  cpuRatio: Spread;
  /** Fraction of one core the load generator used: near 1 means the generator was the limit. */
  generatorBusy: Spread;
  p50Ms: Spread;
  p99Ms: Spread;
  /** p99 − bare p99 of the same round (latency phase). */
  addedP99Ms: Spread;
  wrongStatus: number;
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function spread(values: number[]): Spread {
  if (values.length === 0) return { median: 0, min: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1] };
}

const rps = (s: TargetSample) => (s.seconds > 0 ? s.requests / s.seconds : 0);
const cpuPerRequest = (s: TargetSample) => (s.requests > 0 ? s.serverCpuUs / s.requests : 0);
const safeDiv = (a: number, b: number) => (b > 0 ? a / b : 0);

export function summarise(rounds: Round[], target: BenchTarget): TargetSummary {
  const of = (f: (r: Round) => number) => spread(rounds.map(f));
  return {
    target,
    rounds: rounds.length,
    requests: rounds.reduce((n, r) => n + r[target].requests, 0),
    rps: of((r) => rps(r[target])),
    ratio: of((r) => safeDiv(rps(r[target]), rps(r.bare))),
    ratioToBare429: of((r) => safeDiv(rps(r[target]), rps(r['bare-429']))),
    ratioToFloor: of((r) => safeDiv(rps(r[target]), rps(r['io-floor']))),
    cpuUsPerRequest: of((r) => cpuPerRequest(r[target])),
    cpuRatio: of((r) => safeDiv(cpuPerRequest(r.bare), cpuPerRequest(r[target]))),
    generatorBusy: of((r) => safeDiv(r[target].generatorCpuUs, r[target].seconds * 1e6)),
    p50Ms: of((r) => r[target].p50Ms),
    p99Ms: of((r) => r[target].p99Ms),
    addedP99Ms: of((r) => r[target].p99Ms - r.bare.p99Ms),
    wrongStatus: rounds.reduce((n, r) => n + r[target].wrongStatus, 0),
  };
}

/** A spread as `median [min–max]` with `digits` decimals, as both gateway benches print it. */
export function formatSpread(s: Spread, digits = 2): string {
  return `${s.median.toFixed(digits)} [${s.min.toFixed(digits)}–${s.max.toFixed(digits)}]`;
}

/** Round `i` measures the targets in a rotated order, so no target always runs first or last. */
export function roundOrder(i: number, targets: readonly BenchTarget[]): BenchTarget[] {
  const k = i % targets.length;
  return [...targets.slice(k), ...targets.slice(0, k)];
}
