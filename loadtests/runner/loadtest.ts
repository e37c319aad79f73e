import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { parse } from 'yaml';
import { AccountsFile, type ProvisionedKey } from '../../common/contracts/index.ts';
import { ConfigError } from '../../common/errors.ts';
import type { Policy } from '../../common/policy/schema.ts';
import { loadPolicyDir } from '../../common/policy/loader.ts';
import { type Campaign, type CampaignOverrides, loadCampaign } from '../campaign-schema.ts';
import { referenceEntry } from '../reference-request.ts';
import { peakRates } from './arrivals.ts';
import { keyPicker, planAccounts, writeAccountsFile } from './accounts.ts';
import { type RunResult, runCampaign } from './campaign-run.ts';
import { probeCapacity } from './capacity-probe.ts';
import { ImagesClient } from './http-client.ts';
import { buildReport, type LoadReport, writeReport } from './report.ts';
import { scratchDir } from './scratch-dir.ts';
import { startDistributedTarget } from './distributed-target.ts';
import { needsSlowableRedisLink } from './stack-faults.ts';
import { type ControllerMode, startEmbeddedTarget, type Target, urlTarget } from './target.ts';

/** `spillway loadtest`: options after flag parsing. */
export interface LoadtestOptions extends CampaignOverrides {
  campaign: string | Campaign;
  url?: string;
  /** Keys for a URL target (YAML list of {key, tier, lane}); generated in embedded mode. */
  accountsFile?: string;
  policyDir?: string;
  baselines?: boolean;
  /** Admission modes to run (default: on, plus off and static with --baselines). */
  modes?: ControllerMode[];
  outDir?: string;
  /** Requests per second one `rateUnit: capacity` unit stands for; probed when absent. */
  capacity?: number;
  /** Worker slots: of the embedded stack, or of each inference process in distributed mode. */
  workerSlots?: number;
  /** Which stack the runner starts when no URL is given (default embedded). */
  mode?: 'embedded' | 'distributed';
  /** Distributed mode: inference processes (default 1). */
  workerProcesses?: number;
  /** Distributed mode: servers to use instead of starting a Redis and a Kafka per stack. */
  redisUrl?: string;
  kafkaBrokers?: string;
  progress?: (line: string) => void;
  /** Extra environment for the stacks it starts. */
  env?: Record<string, string>;
  /**
   * Where the run keeps its accounts files and the stacks their data (images, Kafka and Redis
   * files); default the OS temp directory. Everything the run puts there is removed when it ends.
   */
  scratchDir?: string;
}

export interface LoadtestOutcome {
  report: LoadReport;
  files: { json: string; html: string } | null;
}

async function editImage(): Promise<Uint8Array> {
  return sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 90, g: 140, b: 200 } } })
    .png()
    .toBuffer();
}

/** Closed-loop probe connections: enough to keep every slot fed while requests are in transit. */
const probeConcurrency = (slots: number) => Math.max(8, slots * 4);
/** A probe request takes at least ~10 ms end to end: no connection completes more than this. */
const MAX_PROBE_RATE_PER_CONNECTION = 100;

async function measureCapacity(
  target: Target,
  c: Campaign,
  keys: ProvisionedKey[],
  png: Uint8Array,
  slots: number,
) {
  const entry = referenceEntry(c);
  const client = new ImagesClient(target.url, 64, png);
  const pick = keyPicker(keys);
  try {
    const key = `${entry.lane}/${entry.tier}`;
    return await probeCapacity(client, entry, () => pick(key), {
      concurrency: probeConcurrency(slots),
      warmupMs: 2000,
      measureMs: 5000,
    });
  } finally {
    await client.close();
  }
}

async function readAccounts(path: string): Promise<ProvisionedKey[]> {
  const parsed = AccountsFile.safeParse(parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new ConfigError('--accounts', `${path}: ${parsed.error.issues[0].message}`);
  return parsed.data;
}

export interface StackSize {
  /** Worker slots: of the embedded stack, or of each inference process. */
  slots: number;
  /** Inference processes (distributed); 1 for the embedded stack. */
  processes: number;
  totalSlots: number;
}

/**
 * The workers of a stack the runner starts: the command line's, else the campaign's
 * `stack.workers` (embedded: slots, one worker each; distributed: processes), else one. One slot
 * (so one model thread) by default: on a small machine the models would otherwise take every core
 * and starve the gateway and this generator, which real GPUs never do.
 */
export function stackSize(
  o: Pick<LoadtestOptions, 'mode' | 'workerSlots' | 'workerProcesses'>,
  c: Campaign,
): StackSize {
  const workers = c.stack?.workers ?? 1;
  if (o.mode === 'distributed') {
    const slots = o.workerSlots ?? 1;
    const processes = o.workerProcesses ?? workers;
    return { slots, processes, totalSlots: slots * processes };
  }
  const slots = o.workerSlots ?? workers;
  return { slots, processes: 1, totalSlots: slots };
}

/** The stack a run starts for one admission mode: embedded (one process) or distributed. */
function stackStarter(o: LoadtestOptions, policyDir: string, size: StackSize, faults: Campaign['faults']) {
  return (controller: ControllerMode, accountsFile: string): Promise<Target> => {
    const common = {
      controller,
      accountsFile,
      policyDir,
      workerSlots: size.slots,
      env: o.env,
      scratchDir: o.scratchDir,
    };
    // Hooks only when there are faults to apply: otherwise the stack runs as `npm start` does.
    if (o.mode !== 'distributed') return startEmbeddedTarget({ ...common, faultHooks: faults.length > 0 });
    return startDistributedTarget({
      ...common,
      slowableRedisLink: needsSlowableRedisLink(faults),
      workerProcesses: size.processes,
      redisUrl: o.redisUrl,
      kafkaBrokers: o.kafkaBrokers,
    });
  };
}

/**
 * Runs a campaign against a URL, or against stacks it starts itself (embedded, or distributed
 * with faults): Spillway, and with --baselines the same campaign with the controller off (plain
 * FIFO) and static (per-tier limits).
 */
export async function runLoadtest(o: LoadtestOptions): Promise<LoadtestOutcome> {
  const c = typeof o.campaign === 'string' ? await loadCampaign(o.campaign, o) : o.campaign;
  const png = await editImage();
  const say = o.progress ?? (() => {});
  const runId = Math.random().toString(36).slice(2, 8);
  const work = await scratchDir('spillway-loadtest-', o.scratchDir);
  try {
    const ctx = { png, say, runId, work: work.path };
    const runs = await (o.url ? runAgainstUrl(o.url, o, c, ctx) : runOwnStacks(o, c, ctx));
    const report = buildReport(c, runs.runs, c.rateUnit === 'capacity' ? runs.unit : null);
    const files = o.outDir ? await writeReport(report, o.outDir) : null;
    return { report, files };
  } finally {
    await work.remove();
  }
}

interface RunContext {
  png: Uint8Array;
  say: (line: string) => void;
  runId: string;
  /** The run's scratch directory, removed when the run ends. */
  work: string;
}

type Runs = { runs: RunResult[]; unit: number };

/** Requests per second one campaign rate unit stands for, when given: null means probe it. */
const givenUnit = (o: LoadtestOptions, c: Campaign): number | null =>
  c.rateUnit === 'capacity' ? (o.capacity ?? null) : 1;

async function runAgainstUrl(url: string, o: LoadtestOptions, c: Campaign, ctx: RunContext): Promise<Runs> {
  if (!o.accountsFile)
    throw new ConfigError('--accounts', 'a URL target needs an accounts file with its API keys');
  const keys = await readAccounts(o.accountsFile);
  const target = urlTarget(url);
  const unit = givenUnit(o, c) ?? (await measureCapacity(target, c, keys, ctx.png, stackSize(o, c).slots));
  return { runs: [await runOnce(c, target, keys, unit, ctx.png, ctx.say)], unit };
}

/** Spillway, and the baselines asked for, each against a stack of its own. */
async function runOwnStacks(o: LoadtestOptions, c: Campaign, ctx: RunContext): Promise<Runs> {
  const { png, say, runId, work } = ctx;
  const policyDir = o.policyDir ?? 'policies';
  const policy = await loadPolicyDir(policyDir);
  const size = stackSize(o, c);
  const startStack = stackStarter(o, policyDir, size, c.faults);
  const unit = givenUnit(o, c) ?? (await probeUnit(c, policy.policy, startStack, size.totalSlots, ctx));
  // Every attempt counts against its account's limit: size the pool for retries too, or the run
  // measures per-account throttling (429 rate_limit_exceeded) instead of admission.
  const attempts = new Map([...peakRates(c, unit)].map(([k, r]) => [k, r * (1 + c.client.maxRetries)]));
  const keys = planAccounts(attempts, policy.policy, runId);
  const accountsFile = join(work, 'accounts.yaml');
  await writeAccountsFile(accountsFile, keys);
  const modes: ControllerMode[] = o.modes ?? (o.baselines ? ['on', 'off', 'static'] : ['on']);
  const runs: RunResult[] = [];
  for (const controller of modes) {
    const target = await startStack(controller, accountsFile);
    try {
      say(`running ${c.name} against ${target.label}`);
      runs.push(await runOnce(c, target, keys, unit, png, say));
    } finally {
      await target.close();
    }
  }
  return { runs, unit };
}

/** The capacity one `rateUnit: capacity` unit stands for, measured on a stack of its own. */
async function probeUnit(
  c: Campaign,
  policy: Policy,
  startStack: ReturnType<typeof stackStarter>,
  totalSlots: number,
  ctx: RunContext,
): Promise<number> {
  // Accounts for what the probe could possibly complete, so per-account limits never cap it
  // (sized from the campaign's rates, they once capped a 256² probe at a quarter of capacity).
  const ref = referenceEntry(c);
  const probeMax = probeConcurrency(totalSlots) * MAX_PROBE_RATE_PER_CONNECTION;
  const probeKeys = planAccounts(new Map([[`${ref.lane}/${ref.tier}`, probeMax]]), policy, `${ctx.runId}p`);
  const probeFile = join(ctx.work, 'probe-accounts.yaml');
  await writeAccountsFile(probeFile, probeKeys);
  // Without admission control: the probe measures what the workers complete, not what a
  // controller still learning its capacity lets through.
  const probe = await startStack('off', probeFile);
  let unit: number;
  try {
    unit = await measureCapacity(probe, c, probeKeys, ctx.png, totalSlots);
  } finally {
    await probe.close();
  }
  ctx.say(`measured capacity: ${unit.toFixed(2)} req/s`);
  if (unit <= 0) throw new ConfigError('capacity', 'the stack completed nothing during the probe');
  return unit;
}

async function runOnce(
  c: Campaign,
  target: Target,
  keys: ProvisionedKey[],
  unit: number,
  png: Uint8Array,
  progress: (l: string) => void,
): Promise<RunResult> {
  const client = new ImagesClient(target.url, c.client.connections, png);
  try {
    return await runCampaign({ campaign: c, target, client, keys, unit, progress });
  } finally {
    await client.close();
  }
}
