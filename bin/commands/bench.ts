/**
 * `spillway bench [gateway|gateway-change [rev]|inference|goodput|all]`: the benchmarks. Each
 * prints a table of ratios measured in one run (the machine is shared and noisy, so absolute times
 * mean little); `all` also writes loadtests/results/bench.json via the load-test aggregator.
 */
const SUITES: Record<string, (args: string[]) => Promise<unknown>> = {
  gateway: async () => (await import('../../gateway/bench.ts')).runGatewayBench(),
  'gateway-change': async (args) =>
    (await import('../../gateway/bench-change.ts')).runGatewayChangeBench({ rev: args[0] ?? 'HEAD' }),
  inference: async () => (await import('../../inference/bench.ts')).runInferenceBench(),
  goodput: async () => (await import('../../loadtests/bench.ts')).runBenchmarks(['goodput']),
  all: async () => (await import('../../loadtests/bench.ts')).runBenchmarks([]),
};

export async function run(args: string[]): Promise<number> {
  const name = args[0] ?? 'all';
  const suite = SUITES[name];
  if (!suite) {
    process.stderr.write(`spillway bench: unknown suite "${name}" (${Object.keys(SUITES).join(', ')})\n`);
    return 2;
  }
  await suite(args.slice(1));
  return 0;
}
