import { expect } from 'vitest';
import type { ChangeRow } from '../../../gateway/bench-change.ts';

/** What every gateway-change run must give: both targets, every window measured on both sides. */
export function expectComparedWindows(rows: ChangeRow[], windows: number) {
  expect(rows.map((r) => r.target)).toEqual(['shed', 'admitted']);
  for (const r of rows) {
    expect(r.windows).toBe(windows);
    expect(r.wrongStatus).toBe(0);
    expect(r.thisCpuUs.median).toBeGreaterThan(0);
    expect(r.revCpuUs.median).toBeGreaterThan(0);
    expect(r.ratio.min).toBeGreaterThan(0);
    expect(r.ratio.min).toBeLessThanOrEqual(r.ratio.max);
  }
}
