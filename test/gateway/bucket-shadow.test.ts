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

  it('assumes the faster rate once the controller moved it, and forgets after its horizon', () => {
    const s = new BucketShadow(1000);
    // ~0 tokens at t=0; 10 needed: 5 s at 2/s, 0.5 s at 20/s.
    s.refused('a', 10, 5000, 2, 20, 0);
    expect(s.wait('a', 10, 2, 20, 400)).toBeGreaterThan(4000);
    expect(s.wait('a', 10, 20, 20, 400)).toBeGreaterThan(0);
    expect(s.wait('a', 10, 20, 20, 600)).toBeNull();
    s.refused('a', 10, 5000, 2, 20, 0);
    expect(s.wait('a', 10, 2, 20, 1001)).toBeNull();
  });

  it('never refuses what the store would admit, whatever others took and whatever rates they passed', () => {
    fc.assert(
      fc.property(
        fc.record({
          rates: fc.array(fc.double({ min: 0.1, max: 50, noNaN: true }), { minLength: 1, maxLength: 3 }),
          bursts: fc.array(fc.double({ min: 1, max: 40, noNaN: true }), { minLength: 1, maxLength: 3 }),
          start: fc.double({ min: 0, max: 1, noNaN: true }),
          steps: fc.array(
            fc.record({
              dt: fc.integer({ min: 0, max: 400 }),
              cost: fc.double({ min: 0.1, max: 8, noNaN: true }),
              other: fc.boolean(),
              settings: fc.nat(),
            }),
            { minLength: 1, maxLength: 40 },
          ),
        }),
        ({ rates, bursts, start, steps }) => {
          const shadow = new BucketShadow();
          let state = { tokens: start * bursts[0], updatedAt: 0 };
          let now = 0;
          for (const step of steps) {
            now += step.dt;
            // The controller moves rate and burst; callers pass whichever they last heard.
            const rate = rates[step.settings % rates.length];
            const burst = bursts[step.settings % bursts.length];
            // Another gateway takes without telling this one (at the admission state this one
            // heard too: every gateway hears the controller).
            if (step.other) {
              shadow.wait('b', step.cost, rate, burst, now);
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
