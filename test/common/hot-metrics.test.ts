import fc from 'fast-check';
import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HotCounter, HotHistogram } from '../../common/hot-metrics.ts';

const BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1];
const LABEL = fc.constantFrom('/v1/images/generations', '/v1/images/jobs/:id', 'say "hi"\\\n', '');

/** The same metrics twice: prom-client's own classes in one registry, the hot ones in another. */
function pairOfRegistries() {
  const own = new Registry();
  const hot = new Registry();
  const spec = { name: 't_requests_total', help: 'Requests', labelNames: ['route', 'status'] };
  const hspec = {
    name: 't_seconds',
    help: 'Durations',
    labelNames: ['route'],
    buckets: BUCKETS,
  };
  return {
    own,
    hot,
    ownCounter: new Counter({ ...spec, registers: [own] }),
    hotCounter: new HotCounter({ ...spec, registry: hot }),
    ownHistogram: new Histogram({ ...hspec, registers: [own] }),
    hotHistogram: new HotHistogram({ ...hspec, registry: hot }),
    ownTotal: new Counter({ name: 't_all_total', help: 'Unlabelled', registers: [own] }),
    hotTotal: new HotCounter({ name: 't_all_total', help: 'Unlabelled', labelNames: [], registry: hot }),
    ownPlain: new Histogram({
      name: 't_plain_seconds',
      help: 'Unlabelled',
      buckets: BUCKETS,
      registers: [own],
    }),
    hotPlain: new HotHistogram({
      name: 't_plain_seconds',
      help: 'Unlabelled',
      labelNames: [],
      buckets: BUCKETS,
      registry: hot,
    }),
  };
}

type Op =
  | { kind: 'inc'; route: string; status: string; by: number }
  | { kind: 'observe'; route: string; value: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('inc' as const),
    route: LABEL,
    status: fc.constantFrom('200', '429', '503'),
    by: fc.oneof(
      fc.constant(1),
      fc.integer({ min: 0, max: 1000 }),
      fc.double({ min: 0, max: 10, noNaN: true }),
    ),
  }),
  fc.record({
    kind: fc.constant('observe' as const),
    route: LABEL,
    // Exactly on a bound, just either side of one, zero, negative and far above every bound.
    value: fc.oneof(
      fc.constantFrom(...BUCKETS),
      fc.constantFrom(...BUCKETS).map((b) => b * (1 + 1e-9)),
      fc.constantFrom(...BUCKETS).map((b) => b * (1 - 1e-9)),
      fc.constantFrom(0, -1, 120),
      fc.double({ min: 0, max: 2, noNaN: true }),
    ),
  }),
);

describe('hot metrics', () => {
  it('expose exactly what prom-client’s Counter and Histogram expose for the same updates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const m = pairOfRegistries();
        for (const o of ops) {
          if (o.kind === 'inc') {
            m.ownCounter.inc({ route: o.route, status: o.status }, o.by);
            m.hotCounter.inc([o.route, o.status], o.by);
            m.ownTotal.inc(o.by);
            m.hotTotal.inc([], o.by);
          } else {
            m.ownHistogram.observe({ route: o.route }, o.value);
            m.hotHistogram.observe([o.route], o.value);
            m.ownPlain.observe(o.value * 2);
            m.hotPlain.observe([], o.value * 2);
          }
        }
        expect(await m.hot.metrics()).toBe(await m.own.metrics());
        expect(await m.hot.getSingleMetricAsString('t_seconds')).toBe(
          await m.own.getSingleMetricAsString('t_seconds'),
        );
        expect(await m.hot.getMetricsAsJSON()).toEqual(await m.own.getMetricsAsJSON());
        m.own.resetMetrics();
        m.hot.resetMetrics();
        expect(await m.hot.metrics()).toBe(await m.own.metrics());
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a wrong label count, a counter going down, a value that is not finite, unsorted buckets', () => {
    const { hotCounter, hotHistogram } = pairOfRegistries();
    expect(() => hotCounter.inc(['/x'])).toThrow(/1 label values for 2 labels/);
    expect(() => hotCounter.inc(['/x', '200'], -1)).toThrow(/only goes up/);
    expect(() => hotHistogram.observe(['/x'], Number.NaN)).toThrow(/finite/);
    expect(() => hotHistogram.observe(['/x'], Number.POSITIVE_INFINITY)).toThrow(/finite/);
    const registry = new Registry();
    expect(
      () => new HotHistogram({ name: 'h', help: 'h', labelNames: [], registry, buckets: [1, 0.5] }),
    ).toThrow(/strictly increasing/);
  });

  it('keeps a name to one metric in its registry, as prom-client does', () => {
    const { hot } = pairOfRegistries();
    expect(
      () => new HotCounter({ name: 't_requests_total', help: 'again', labelNames: [], registry: hot }),
    ).toThrow(/already been registered/);
  });
});
