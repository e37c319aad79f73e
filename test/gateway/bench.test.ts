import { describe, expect, it } from 'vitest';
import { runGatewayBench } from '../../gateway/bench.ts';

describe('gateway bench', () => {
  it('measures bare, bare 429, I/O floor, admitted and shed paths in interleaved rounds with the expected statuses', async () => {
    const rows = await runGatewayBench({
      durationMs: 250,
      latencyMs: 100,
      warmupMs: 100,
      rounds: 2,
      connections: 4,
      pipelining: 1,
      variants: ['memory'],
      print: false,
    });
    expect(rows.map((r) => `${r.variant}/${r.target}`)).toEqual([
      'memory/bare',
      'memory/bare-429',
      'memory/io-floor',
      'memory/admitted',
      'memory/shed',
    ]);
    for (const r of rows) {
      expect(r.rounds).toBe(2);
      expect(r.requests).toBeGreaterThan(0);
      expect(r.wrongStatus).toBe(0);
      expect(r.cpuUsPerRequest.median).toBeGreaterThan(0);
      expect(r.p99Ms.median).toBeGreaterThanOrEqual(r.p50Ms.median);
    }
    expect(rows[0].ratio).toEqual({ median: 1, min: 1, max: 1 });
    expect(rows[0].addedP99Ms.median).toBe(0);
  }, 60_000);
});
