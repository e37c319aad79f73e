import { describe, expect, it } from 'vitest';
import { runGatewayBench } from '../../gateway/bench.ts';

describe('gateway bench', () => {
  it('measures bare, admitted and shed paths with the expected statuses', async () => {
    const rows = await runGatewayBench({ durationMs: 300, connections: 4, pipelining: 1, print: false });
    expect(rows.map((r) => r.target)).toEqual(['bare', 'admitted', 'shed']);
    for (const r of rows) {
      expect(r.requests).toBeGreaterThan(0);
      expect(r.wrongStatus).toBe(0);
    }
    expect(rows[0].ratio).toBe(1);
  }, 30_000);
});
