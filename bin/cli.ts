import { ConfigError, DependencyError, SpillwayError } from '../common/errors.ts';

/**
 * `spillway <command> …`. Each command lives in bin/commands/<name>.ts and exports
 * `run(args): Promise<number>` (the exit code). Commands load lazily so `spillway policy check`
 * does not pay for onnxruntime.
 */
const COMMANDS: Record<
  string,
  {
    summary: string;
    load: () => Promise<{ run(args: string[]): Promise<number> }>;
    /** Starts child processes that must not outlive it (see exitOnSignals). */
    supervises?: boolean;
  }
> = {
  start: {
    summary: 'run a stack: embedded (default) or one distributed service',
    load: () => import('./commands/start.ts'),
  },
  services: {
    summary: 'start real Redis and Kafka for development',
    load: () => import('./commands/services.ts'),
  },
  policy: {
    summary: 'check | diff | explain | schema | simulate policies',
    load: () => import('./commands/policy.ts'),
  },
  accounts: {
    summary: 'check an accounts provisioning file',
    load: () => import('./commands/accounts.ts'),
  },
  models: { summary: 'build the ONNX models', load: () => import('./commands/models.ts') },
  loadtest: {
    summary: 'run a load-test campaign',
    load: () => import('./commands/loadtest.ts'),
    supervises: true,
  },
  simulate: { summary: 'simulate a campaign at full scale', load: () => import('./commands/simulate.ts') },
  bench: { summary: 'run the benchmarks', load: () => import('./commands/bench.ts'), supervises: true },
};

/**
 * Node's default action on SIGINT/SIGTERM ends the process without its 'exit' listeners, which is
 * where a load test kills the Redis and Kafka it started (they would run on, holding ports and
 * cores). Exiting explicitly runs them; the Spillway children also watch this process
 * (common/parent-watch.ts) and stop within a second of it.
 */
function exitOnSignals(): void {
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
}

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([n, c]) => `  ${n.padEnd(10)} ${c.summary}`);
  return `usage: spillway <command> [args]\n\n${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`spillway: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (command.supervises) exitOnSignals();
  try {
    const mod = await command.load();
    return await mod.run(args);
  } catch (err) {
    // Operators get the setting or dependency at fault, not a stack trace.
    if (err instanceof ConfigError || err instanceof DependencyError || err instanceof SpillwayError) {
      process.stderr.write(`spillway ${name}: ${err.message}\n`);
      return 1;
    }
    if ((err as NodeJS.ErrnoException)?.code === 'ERR_MODULE_NOT_FOUND') {
      process.stderr.write(`spillway ${name}: not available in this build (${(err as Error).message})\n`);
      return 1;
    }
    throw err;
  }
}
