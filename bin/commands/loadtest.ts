import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../common/errors.ts';
import { parseDuration } from '../../common/policy/units.ts';
import { loadCampaign } from '../../loadtests/campaign-schema.ts';
import { describeCapacityStep } from '../../loadtests/runner/capacity-step.ts';
import { runLoadtest } from '../../loadtests/runner/loadtest.ts';

const USAGE = `usage: spillway loadtest <campaign> [--url URL --accounts FILE | --mode embedded|distributed]
         [--baselines] [--out DIR] [--scale N] [--duration 30s] [--capacity REQ_PER_S]
         [--policy DIR] [--worker-slots N] [--worker-processes N] [--export-json FILE] [--quiet]

<campaign> is a YAML file or a name from loadtests/campaigns/ (launch-day, steady, soak, retry-storm,
capacity-drop, fleet-restart, launch-week). --export-json writes the resolved campaign as JSON for the k6 script
(k6 run -e CAMPAIGN=file.json -e BASE_URL=… loadtests/k6/campaign.ts) and exits.
--mode embedded (default) starts \`spillway start\` in one child process with --worker-slots
workers of one slot each; --mode distributed starts a Redis, a Kafka broker and the gateway,
controller and --worker-processes inference processes (each with --worker-slots, default 1) on
free loopback ports, per admission mode. Workers default to the campaign's stack.workers, else 1. With
SPILLWAY_REDIS_URL / SPILLWAY_KAFKA_BROKERS set, distributed stacks use those servers instead.
Faults: applied by distributed stacks (kill-workers, add-workers, restart-kafka, restart-redis,
slow-store, slow-auth; restarts only of servers the runner started) and, inside its process, by
the embedded stack (the same kinds); URL targets apply none. Faults not applied are listed as
skipped, with why, in the report.
`;

function positive(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(name, `expected a positive number, got "${v}"`);
  return n;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      mode: { type: 'string', default: 'embedded' },
      accounts: { type: 'string' },
      policy: { type: 'string', default: 'policies' },
      baselines: { type: 'boolean', default: false },
      out: { type: 'string', default: 'loadtests/results' },
      scale: { type: 'string' },
      duration: { type: 'string' },
      capacity: { type: 'string' },
      'worker-slots': { type: 'string' },
      'worker-processes': { type: 'string' },
      'export-json': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const mode = values.mode;
  if (mode !== 'embedded' && mode !== 'distributed')
    throw new ConfigError('--mode', `expected "embedded" or "distributed", got "${mode}"`);
  const workerProcesses = positive('--worker-processes', values['worker-processes']);
  if (workerProcesses !== undefined && (mode !== 'distributed' || !Number.isInteger(workerProcesses)))
    throw new ConfigError('--worker-processes', 'a whole number, with --mode distributed only');
  const durationMs = values.duration === undefined ? undefined : parseDuration(values.duration);
  if (durationMs === null) throw new ConfigError('--duration', `"${values.duration}" is not a duration`);
  const overrides = { scale: positive('--scale', values.scale), durationMs };
  if (values['export-json']) {
    const c = await loadCampaign(positionals[0], overrides);
    await writeFile(values['export-json'], JSON.stringify(c, null, 1));
    process.stdout.write(`wrote ${values['export-json']}\n`);
    return 0;
  }
  const { report, files } = await runLoadtest({
    campaign: positionals[0],
    ...overrides,
    url: values.url,
    accountsFile: values.accounts,
    policyDir: values.policy,
    baselines: values.baselines,
    outDir: values.out,
    capacity: positive('--capacity', values.capacity),
    workerSlots: positive('--worker-slots', values['worker-slots']),
    mode,
    workerProcesses,
    redisUrl: process.env.SPILLWAY_REDIS_URL || undefined,
    kafkaBrokers: process.env.SPILLWAY_KAFKA_BROKERS || undefined,
    progress: values.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
  });
  for (const { run, checks, figures } of report.runs) {
    process.stdout.write(`${run.label}\n`);
    for (const c of checks) {
      process.stdout.write(`  ${c.pass ? 'PASS' : 'FAIL'} ${c.name}: ${c.actual} (expected ${c.expected})\n`);
    }
    if (figures.capacityStep) process.stdout.write(`  ${describeCapacityStep(figures.capacityStep)}\n`);
  }
  if (files) process.stdout.write(`report: ${files.html}\n        ${files.json}\n`);
  return report.pass ? 0 : 1;
}
