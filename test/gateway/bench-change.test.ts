import { describe, expect, it } from 'vitest';
import { runGatewayChangeBench } from '../../gateway/bench-change.ts';
import { expectComparedWindows } from './support/change-rows.ts';

describe('gateway change bench', () => {
  it('runs this checkout and a committed one side by side and compares them window by window', async () => {
    const rows = await runGatewayChangeBench({
      rev: 'HEAD',
      windows: 2,
      windowMs: 200,
      warmupMs: 100,
      connections: 4,
      print: false,
    });
    expectComparedWindows(rows, 2);
  }, 90_000);

  it('names a variant it does not have', async () => {
    await expect(
      runGatewayChangeBench({ rev: 'HEAD', variant: 'cluster' as 'memory', print: false }),
    ).rejects.toThrow(/variant "cluster" is not memory or distributed/);
  });

  it('takes its variant from the setting bench gateway reads, and names one it cannot run', async () => {
    const before = process.env.SPILLWAY_BENCH_VARIANTS;
    process.env.SPILLWAY_BENCH_VARIANTS = 'memory,distributed';
    try {
      await expect(runGatewayChangeBench({ rev: 'HEAD', print: false })).rejects.toThrow(
        /variant "memory,distributed" is not memory or distributed/,
      );
    } finally {
      if (before === undefined) delete process.env.SPILLWAY_BENCH_VARIANTS;
      else process.env.SPILLWAY_BENCH_VARIANTS = before;
    }
  });

  it('names the revision it cannot find instead of failing somewhere in git', async () => {
    await expect(runGatewayChangeBench({ rev: 'no-such-revision', print: false })).rejects.toThrow(
      /"no-such-revision" names no commit/,
    );
  });
});
