import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { goDuration, jitteredHintMs, MAX_HINT_MS } from '../../gateway/retry-hints.ts';

/** Milliseconds back from a Go duration string, or null when it is not one Go would print. */
function parseGo(text: string): number | null {
  const ms = /^(\d+)ms$/.exec(text);
  if (ms) return Number(ms[1]);
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(\d+)(?:\.(\d{1,3}))?s$/.exec(text);
  if (!m || m[4]?.endsWith('0')) return null;
  const fraction = m[4] ? Number(m[4].padEnd(3, '0')) : 0;
  return Number(m[1] ?? 0) * 3_600_000 + Number(m[2] ?? 0) * 60_000 + Number(m[3]) * 1000 + fraction;
}

describe('retry hints', () => {
  it('prints durations as Go does', () => {
    const cases: [number, string][] = [
      [0, '0ms'],
      [-5, '0ms'],
      [250, '250ms'],
      [999.4, '999ms'],
      [999.6, '1s'],
      [1000, '1s'],
      [1500, '1.5s'],
      [1050, '1.05s'],
      [1005, '1.005s'],
      [1234, '1.234s'],
      [59_999, '59.999s'],
      [60_000, '1m0s'],
      [61_500, '1m1.5s'],
      [3_600_000, '1h0m0s'],
      [3_723_004, '1h2m3.004s'],
    ];
    for (const [ms, text] of cases) expect(goDuration(ms)).toBe(text);
  });

  it('round-trips every whole millisecond up to a day, without trailing zeros', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 86_400_000 }), (ms) => {
        expect(parseGo(goDuration(ms))).toBe(ms);
      }),
      { numRuns: 2000 },
    );
  });

  it('spreads a hint by up to half again and keeps it within (0, 60 s]', () => {
    expect(jitteredHintMs(1000, 0)).toBe(1000);
    expect(jitteredHintMs(1000, 0.999)).toBe(1500);
    expect(jitteredHintMs(0, 0)).toBe(100);
    expect(jitteredHintMs(Number.NaN, 0.5)).toBe(MAX_HINT_MS);
    expect(jitteredHintMs(10 * MAX_HINT_MS, 0.5)).toBe(MAX_HINT_MS);
  });
});
