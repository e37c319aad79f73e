import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { takeFromBucket } from '../../common/token-bucket.ts';
import { BucketShadow } from '../../gateway/bucket-shadow.ts';

describe('BucketShadow', () => {
  it('knows nothing of a bucket it was never refused from', () => {
    expect(new BucketShadow().wait('a', 1, 2, 4, 0)).toBeNull();
  });

  it('refuses until the bucket could have refilled, then hands back to the store', () => {
    const s = new BucketShadow();
    // Refused 1 token at 2/s with 500 ms to wait: the bucket held ~0 tokens.
    s.refused('a', 1, 500, 2, 4, 1000);
    expect(s.wait('a', 1, 2, 4, 1000)).toBeGreaterThan(0);
    expect(s.wait('a', 1, 2, 4, 1400)).toBeGreaterThan(0);
    expect(s.wait('a', 1, 2, 4, 1600)).toBeNull();
  });

  it('forgets a bucket whose rate or burst changed, or after its horizon', () => {
    const s = new BucketShadow(1000);
    s.refused('a', 10, 5000, 2, 20, 0);
    expect(s.wait('a', 10, 3, 20, 10)).toBeNull();
    s.refused('a', 10, 5000, 2, 20, 0);
    expect(s.wait('a', 10, 2, 30, 10)).toBeNull();
    s.refused('a', 10, 5000, 2, 20, 0);
    expect(s.wait('a', 10, 2, 20, 1001)).toBeNull();
  });

  it('never refuses what the store would admit, whatever others took in between', () => {
    fc.assert(
      fc.property(
        fc.record({
          rate: fc.double({ min: 0.1, max: 50, noNaN: true }),
          burst: fc.double({ min: 1, max: 40, noNaN: true }),
          start: fc.double({ min: 0, max: 1, noNaN: true }),
          steps: fc.array(
            fc.record({
              dt: fc.integer({ min: 0, max: 400 }),
              cost: fc.double({ min: 0.1, max: 8, noNaN: true }),
              other: fc.boolean(),
            }),
            { minLength: 1, maxLength: 40 },
          ),
        }),
        ({ rate, burst, start, steps }) => {
          const shadow = new BucketShadow();
          let state = { tokens: start * burst, updatedAt: 0 };
          let now = 0;
          for (const step of steps) {
            now += step.dt;
            // Another gateway takes without telling this one.
            if (step.other) {
              state = takeFromBucket(state, step.cost, rate, burst, now).state;
              continue;
            }
            const sure = shadow.wait('b', step.cost, rate, burst, now);
            const r = takeFromBucket(state, step.cost, rate, burst, now);
            if (sure !== null) expect(r.ok).toBe(false);
            state = r.state;
            if (!r.ok) shadow.refused('b', step.cost, r.waitMs, rate, burst, now);
          }
        },
      ),
    );
  });
});
