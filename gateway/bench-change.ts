import { execFileSync, execSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SpillwayError } from '../common/errors.ts';
import { load } from './bench-load.ts';
import { type BenchDependencies, BenchServer, startBenchDependencies } from './bench-process.ts';
import { BENCH_KEYS, type BenchPorts } from './bench-server.ts';
import { formatSpread, type Spread, spread } from './bench-stats.ts';
import type { BenchVariant } from './bench.ts';

/**
 * `spillway bench gateway-change [rev]`: what a change did to the gateway's shed and admitted
 * paths, as this checkout's CPU per request over that of `rev` (default HEAD: the uncommitted
 * change; HEAD~1 after committing it). Both gateways run at once (one server child each, `rev`
 * exported with git archive), each loaded by half the connections, in windows: a neighbour's
 * burst on the shared machine hits both alike, so the per-window ratio holds within a few percent
 * where two `bench gateway` runs drift by twenty. Variant `memory` (default) gives each its
 * embedded adapters; `distributed` starts one Redis and one Kafka broker that both use, so the
 * two share the stores' load as they share the machine's. SPILLWAY_BENCH_WINDOWS,
 * SPILLWAY_BENCH_DURATION_MS (per window) and SPILLWAY_BENCH_VARIANTS (the setting `bench gateway`
 * reads; one variant here) tune a run from the CLI.
 */
export type ChangeTarget = 'shed' | 'admitted';

export interface ChangeOptions {
  rev: string;
  variant: BenchVariant;
  windows: number;
  windowMs: number;
  warmupMs: number;
  /** Split evenly between the two gateways. */
  connections: number;
  targets: ChangeTarget[];
  print: boolean;
}

export interface ChangeRow {
  target: ChangeTarget;
  windows: number;
  /** CPU per request (µs) of this checkout's gateway and of `rev`'s, over the windows. */
  thisCpuUs: Spread;
  revCpuUs: Spread;
  /** This ÷ rev within each window: below 1 means the change made the path cheaper. */
  ratio: Spread;
  wrongStatus: number;
}

const DEFAULTS: ChangeOptions = {
  rev: 'HEAD',
  variant: 'memory',
  windows: 12,
  windowMs: 1500,
  warmupMs: 1500,
  connections: 16,
  targets: ['shed', 'admitted'],
  print: true,
};

const EXPECTED: Record<ChangeTarget, number> = { shed: 429, admitted: 202 };
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The commit `rev` names, or an error that says the rev is unknown (not git's stack of output). */
function resolveRev(rev: string): string {
  try {
    return execFileSync('git', ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim();
  } catch {
    throw new SpillwayError('unknown_revision', `gateway-change: "${rev}" names no commit in ${ROOT}`);
  }
}

/** The tree of `sha` in a scratch folder, with this checkout's node_modules. */
function exportRev(sha: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'spillway-bench-rev-'));
  try {
    // sha is 40 hex digits from rev-parse, so the shell line holds nothing but it and the folder.
    execSync(`git archive --format=tar ${sha} | tar -x -C '${dir}'`, { cwd: ROOT, stdio: 'ignore' });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    return dir;
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

interface Side {
  server: BenchServer;
  ports: BenchPorts;
}

interface Window {
  thisUs: number;
  revUs: number;
  wrong: number;
}

async function window(sides: [Side, Side], target: ChangeTarget, o: ChangeOptions): Promise<Window> {
  const each = Math.max(1, Math.floor(o.connections / 2));
  const key = target === 'shed' ? BENCH_KEYS.shed : BENCH_KEYS.admitted;
  const before = await Promise.all(sides.map((s) => s.server.cpuUs()));
  const runs = await Promise.all(
    sides.map((s) => load(`http://127.0.0.1:${s.ports.gateway}`, key, EXPECTED[target], each, 1, o.windowMs)),
  );
  const after = await Promise.all(sides.map((s) => s.server.cpuUs()));
  const perRequest = (i: number) => (after[i] - before[i]) / Math.max(1, runs[i].requests);
  return { thisUs: perRequest(0), revUs: perRequest(1), wrong: runs[0].wrong + runs[1].wrong };
}

async function requireDependencies(): Promise<BenchDependencies> {
  const deps = await startBenchDependencies();
  if ('skipped' in deps) {
    throw new SpillwayError(
      'dependencies_unavailable',
      `gateway-change: Redis and Kafka did not start (${deps.skipped})`,
    );
  }
  return deps;
}

function fromEnv(env: NodeJS.ProcessEnv): Partial<ChangeOptions> {
  const o: Partial<ChangeOptions> = {};
  if (env.SPILLWAY_BENCH_WINDOWS) o.windows = Number(env.SPILLWAY_BENCH_WINDOWS);
  if (env.SPILLWAY_BENCH_DURATION_MS) o.windowMs = Number(env.SPILLWAY_BENCH_DURATION_MS);
  if (env.SPILLWAY_BENCH_VARIANTS) o.variant = env.SPILLWAY_BENCH_VARIANTS.trim() as BenchVariant;
  return o;
}

export async function runGatewayChangeBench(options: Partial<ChangeOptions> = {}): Promise<ChangeRow[]> {
  const o: ChangeOptions = { ...DEFAULTS, ...fromEnv(process.env), ...options };
  if (o.variant !== 'memory' && o.variant !== 'distributed') {
    throw new SpillwayError(
      'unknown_variant',
      `gateway-change: variant "${o.variant}" is not memory or distributed`,
    );
  }
  const sha = resolveRev(o.rev);
  const dir = exportRev(sha);
  const started: Side[] = [];
  let deps: BenchDependencies | null = null;
  try {
    if (o.variant === 'distributed') deps = await requireDependencies();
    // Without dependencies, memory adapters on both sides whatever the caller's environment says.
    const env = deps?.env ?? { SPILLWAY_REDIS_URL: '', SPILLWAY_KAFKA_BROKERS: '' };
    started.push(await BenchServer.start(env));
    started.push(await BenchServer.start(env, dir));
    const sides = started as [Side, Side];
    for (const side of sides) {
      if (side.ports.variant !== o.variant) {
        throw new Error(`gateway-change: a bench server ran ${side.ports.variant}, not ${o.variant}`);
      }
    }
    if (o.print) printHeader(o, sha);
    const rows: ChangeRow[] = [];
    for (const target of o.targets) {
      await window(sides, target, { ...o, windowMs: o.warmupMs });
      const ws: Window[] = [];
      for (let i = 0; i < o.windows; i++) ws.push(await window(sides, target, o));
      rows.push({
        target,
        windows: ws.length,
        thisCpuUs: spread(ws.map((w) => w.thisUs)),
        revCpuUs: spread(ws.map((w) => w.revUs)),
        ratio: spread(ws.map((w) => w.thisUs / w.revUs)),
        wrongStatus: ws.reduce((n, w) => n + w.wrong, 0),
      });
    }
    if (o.print) printRows(rows);
    return rows;
  } finally {
    await Promise.all(started.map((s) => s.server.stop()));
    rmSync(dir, { recursive: true, force: true });
    await deps?.stop();
  }
}

function printHeader(o: ChangeOptions, sha: string) {
  process.stdout.write(
    `gateway change: this checkout against ${o.rev} (${sha.slice(0, 7)}), ${o.variant} adapters, both under load at once (${Math.floor(o.connections / 2)} connections each), ${o.windows} windows of ${o.windowMs} ms per target after ${o.warmupMs} ms warm-up\n`,
  );
}

const range = formatSpread;

function printRows(rows: ChangeRow[]) {
  const out = process.stdout;
  out.write(
    `${'target'.padEnd(10)}${'this µs/req'.padStart(20)}${'rev µs/req'.padStart(20)}${'this ÷ rev'.padStart(22)}${'wrong'.padStart(7)}\n`,
  );
  for (const r of rows) {
    out.write(
      `${r.target.padEnd(10)}${range(r.thisCpuUs, 0).padStart(20)}${range(r.revCpuUs, 0).padStart(20)}${range(r.ratio, 3).padStart(22)}${String(r.wrongStatus).padStart(7)}\n`,
    );
  }
  out.write('median [min–max] over windows; this ÷ rev is taken within each window\n');
}
