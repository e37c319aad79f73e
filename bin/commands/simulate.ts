import { parseArgs } from 'node:util';
import { ConfigError } from '../../common/errors.ts';
import { parseDuration } from '../../common/policy/units.ts';
import { formatSimSummary, runSimulation } from '../../loadtests/simulator/run-simulation.ts';

const USAGE = `usage: spillway simulate <campaign> [--policy DIR] [--baselines] [--out DIR] [--scale N] [--duration 24h]

Replays a campaign (a YAML file or a name from loadtests/campaigns/, e.g. launch-week) at full
scale in a discrete-time simulation driven by the real controller and policy code, and writes a
JSON + HTML report. --baselines adds the no-shedding (controller off) and static-limit runs.
`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      policy: { type: 'string', default: 'policies' },
      baselines: { type: 'boolean', default: false },
      out: { type: 'string', default: 'loadtests/results' },
      scale: { type: 'string' },
      duration: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length !== 1) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const durationMs = values.duration === undefined ? undefined : parseDuration(values.duration);
  if (durationMs === null) throw new ConfigError('--duration', `"${values.duration}" is not a duration`);
  const scale = values.scale === undefined ? undefined : Number(values.scale);
  if (scale !== undefined && !(scale > 0))
    throw new ConfigError('--scale', `expected a positive number, got "${values.scale}"`);
  const { results, files, warnings } = await runSimulation({
    campaign: positionals[0],
    policy: values.policy,
    baselines: values.baselines,
    outDir: values.out,
    scale,
    durationMs,
  });
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  process.stdout.write(formatSimSummary(results));
  if (files) process.stdout.write(`report: ${files.html}\n        ${files.json}\n`);
  return 0;
}
