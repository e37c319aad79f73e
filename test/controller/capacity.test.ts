import { describe, expect, it } from 'vitest';
import type { WorkerSignal } from '../../common/contracts/index.ts';
import { DEFAULT_CAPACITY_TUNING, estimateCapacity } from '../../controller/capacity.ts';

const signal = (at: number, costFinished: number, slotsBusy: number): WorkerSignal => ({
  source: 'worker',
  id: 'w1',
  at,
  lanes: ['chat'],
  slotsBusy,
  slotsTotal: 4,
  passLatencyEwmaMs: 100,
  passLatencyP95Ms: 100,
  baselinePassMs: 100,
  jobsStarted: costFinished,
  jobsFinished: costFinished,
  jobsAborted: 0,
  costFinished,
  oldestJobAgeMs: 0,
  blobWriteMs: 1,
  storeLatencyMs: 1,
});

/** A worker with 4 slots, half of them busy, finishing 4 cost units per second (8 at full use). */
function learnedWith(backlogJobs: number): number {
  const opts = {
    intervalMs: 1000,
    maxAgeMs: 5000,
    laneShares: { chat: 1 },
    backlogByLane: { chat: backlogJobs },
  };
  let mem = estimateCapacity([signal(0, 0, 2)], null, 0, opts).memory;
  let total = 0;
  for (let t = 1; t <= 6; t++) {
    const out = estimateCapacity([signal(t * 1000, t * 4, 2)], mem, t * 1000, opts);
    mem = out.memory;
    total = out.estimate.total;
  }
  return total;
}

describe('capacity learning', () => {
  it('a job or two in transit is not saturation: a half-busy worker is credited with its full capacity', () => {
    expect(learnedWith(0)).toBeCloseTo(8, 6);
    expect(learnedWith(1)).toBeCloseTo(8, 6);
    expect(learnedWith(3)).toBeCloseTo(8, 6);
  });

  it('with a job waiting for every slot, what it finishes is what it can do, whatever its slot samples', () => {
    expect(learnedWith(4)).toBeCloseTo(4, 6);
    expect(learnedWith(50)).toBeCloseTo(4, 6);
  });
});

describe('capacity learning from cumulative busy time', () => {
  // One slot: 2 cost units/s when saturated (each job takes 500 ms of slot time).
  const oneSlot = (at: number, cost: number, busySlotMs: number, slotsBusy: number): WorkerSignal => ({
    ...signal(at, cost, slotsBusy),
    slotsTotal: 1,
    busySlotMs,
  });
  const opts = { intervalMs: 1000, maxAgeMs: 5000, laneShares: { chat: 1 }, backlogByLane: { chat: 0 } };

  it('does not ratchet down when a lightly loaded worker happens to be busy at every report', () => {
    let mem = estimateCapacity([oneSlot(0, 0, 0, 1)], null, 0, {
      ...opts,
      backlogByLane: { chat: 5 },
    }).memory;
    let cost = 0;
    let busy = 0;
    let t = 0;
    // Saturated: 2 units/s with work waiting → learns 2.
    for (let i = 0; i < 6; i++) {
      t += 1000;
      cost += 2;
      busy += 1000;
      mem = estimateCapacity([oneSlot(t, cost, busy, 1)], mem, t, {
        ...opts,
        backlogByLane: { chat: 5 },
      }).memory;
    }
    // Light load: 0.4 units/s (20 % busy), yet the slot is caught busy at every report.
    let total = 0;
    for (let i = 0; i < 20; i++) {
      t += 1000;
      cost += 0.4;
      busy += 200;
      const out = estimateCapacity([oneSlot(t, cost, busy, 1)], mem, t, opts);
      mem = out.memory;
      total = out.estimate.total;
    }
    expect(total).toBeGreaterThanOrEqual(1.8);
  });

  it('with exact busy time, work waiting does not make an idle slot count as busy', () => {
    // Jobs wait (one in transit fills the one slot) but the worker was busy 40 % of each second,
    // finishing 0.8 units/s: it could finish 2.
    const waiting = { ...opts, backlogByLane: { chat: 3 } };
    let mem = estimateCapacity([oneSlot(0, 0, 0, 1)], null, 0, waiting).memory;
    let total = 0;
    for (let t = 1; t <= 6; t++) {
      const out = estimateCapacity([oneSlot(t * 1000, t * 0.8, t * 400, 1)], mem, t * 1000, waiting);
      mem = out.memory;
      total = out.estimate.total;
    }
    expect(total).toBeCloseTo(2, 6);
  });
});

describe('capacity after the last worker is lost', () => {
  const opts = (holdAfterLoss: number) => ({
    intervalMs: 1000,
    maxAgeMs: 5000,
    laneShares: { chat: 1 },
    backlogByLane: { chat: 50 },
    tuning: { ...DEFAULT_CAPACITY_TUNING, holdAfterLoss },
  });

  /** The worker of learnedWith(50), learned over 6 s, then silent from 6 s on; estimates each second to `until`. */
  function silentFrom6s(holdAfterLoss: number, until: number) {
    let mem = estimateCapacity([signal(0, 0, 4)], null, 0, opts(holdAfterLoss)).memory;
    const estimates = [];
    for (let t = 1; t <= until; t++) {
      const signals = t <= 6 ? [signal(t * 1000, t * 4, 4)] : [signal(6000, 24, 4)];
      const out = estimateCapacity(signals, mem, t * 1000, opts(holdAfterLoss));
      mem = out.memory;
      estimates.push({ at: t * 1000, ...out.estimate });
    }
    return estimates;
  }

  it('the last learned capacity stands in for holdAfterLoss, with no live worker, no utilisation and the time it was last seen', () => {
    const es = silentFrom6s(20_000, 30);
    const at = (s: number) => es.find((e) => e.at === s * 1000)!;
    expect(at(6)).toMatchObject({ known: true, workers: 1, heldSince: null });
    // Late after 1.5 intervals: 8 s is the first estimate without the worker.
    for (const s of [8, 15, 26]) {
      expect(at(s)).toMatchObject({ known: true, workers: 0, utilisation: null, heldSince: 7000, slots: 4 });
      expect(at(s).total).toBeCloseTo(4, 6);
      expect(at(s).byLane.chat).toBeCloseTo(4, 6);
    }
    // 20 s after the last estimate that counted it (7 s), it is unknown: the static fallback applies.
    expect(at(27)).toMatchObject({ known: false, total: 0, heldSince: null });
    expect(at(30)).toMatchObject({ known: false, total: 0, heldSince: null });
  });

  it('workers that die together are held together, though they go late a report apart', () => {
    const two = (aUntil: number, bUntil: number, until: number) => {
      const report = (id: string, t: number, last: number) => ({
        ...signal(Math.min(t, last) * 1000, Math.min(t, last) * 4, 4),
        id,
      });
      let mem = estimateCapacity([report('a', 0, 0), report('b', 0, 0)], null, 0, opts(60_000)).memory;
      let estimate = null;
      for (let t = 1; t <= until; t++) {
        const out = estimateCapacity(
          [report('a', t, aUntil), report('b', t, bUntil)],
          mem,
          t * 1000,
          opts(60_000),
        );
        mem = out.memory;
        estimate = out.estimate;
      }
      return estimate!;
    };
    // a's last report at 6 s, b's at 7 s: at 8 s only b counts (4/s), at 9 s neither.
    const together = two(6, 7, 12);
    expect(together).toMatchObject({ known: true, workers: 0 });
    expect(together.total).toBeCloseTo(8, 6);
    // a lost at 6 s, b living on to 20 s: what was lost last is b alone.
    const apart = two(6, 20, 25);
    expect(apart).toMatchObject({ known: true, workers: 0 });
    expect(apart.total).toBeCloseTo(4, 6);
  });

  it('holdAfterLoss 0s: unknown as soon as the worker is late', () => {
    const es = silentFrom6s(0, 10);
    expect(es.find((e) => e.at === 7000)).toMatchObject({ known: true, workers: 1 });
    expect(es.find((e) => e.at === 8000)).toMatchObject({ known: false, total: 0 });
  });

  it('a worker heard during the hold starts from the held fleet per slot, then learns from what it finishes', () => {
    let mem = estimateCapacity([signal(0, 0, 4)], null, 0, opts(60_000)).memory;
    for (let t = 1; t <= 6; t++)
      mem = estimateCapacity([signal(t * 1000, t * 4, 4)], mem, t * 1000, opts(60_000)).memory;
    const held = estimateCapacity([], mem, 9000, opts(60_000));
    expect(held.estimate.heldSince).toBe(6000);
    // Back (restarted, or heard again after a split): it counts at once at the held 1 unit/s per
    // slot, so the estimate does not step down to a warming-up worker's first sample.
    const back = estimateCapacity([signal(10_000, 24, 4)], held.memory, 10_000, opts(60_000));
    expect(back.estimate).toMatchObject({ known: true, workers: 1, heldSince: null });
    expect(back.estimate.total).toBeCloseTo(4, 6);
    // Its first sample (8/s) moves it as any sample does (smoothing 0.6): 4 + 0.6 × (8 − 4).
    const learned = estimateCapacity([signal(11_000, 32, 4)], back.memory, 11_000, opts(60_000));
    expect(learned.estimate).toMatchObject({ known: true, workers: 1, heldSince: null });
    expect(learned.estimate.total).toBeCloseTo(6.4, 6);
    // One still loading its models (no slots) is not seeded: it would count for nothing.
    const loading = estimateCapacity(
      [{ ...signal(10_000, 0, 0), id: 'w9', slotsTotal: 0 }],
      held.memory,
      10_000,
      opts(60_000),
    );
    expect(loading.estimate).toMatchObject({ known: true, workers: 0, heldSince: 6000 });
  });

  it('a fleet coming back a worker at a time is seeded until it has as many slots as the held one', () => {
    const report = (id: string, t: number, cost: number) => ({ ...signal(t * 1000, cost, 4), id });
    let mem = estimateCapacity([report('a', 0, 0), report('b', 0, 0)], null, 0, opts(60_000)).memory;
    for (let t = 1; t <= 6; t++)
      mem = estimateCapacity(
        [report('a', t, t * 4), report('b', t, t * 4)],
        mem,
        t * 1000,
        opts(60_000),
      ).memory;
    const held = estimateCapacity([], mem, 9000, opts(60_000));
    expect(held.estimate).toMatchObject({ workers: 0, slots: 8 });
    expect(held.estimate.total).toBeCloseTo(8, 6);
    const first = estimateCapacity([report('c', 10, 0)], held.memory, 10_000, opts(60_000));
    expect(first.estimate).toMatchObject({ workers: 1, heldSince: null });
    expect(first.estimate.total).toBeCloseTo(4, 6);
    const second = estimateCapacity(
      [report('c', 11, 0), report('d', 11, 0)],
      first.memory,
      11_000,
      opts(60_000),
    );
    expect(second.estimate).toMatchObject({ workers: 2 });
    expect(second.estimate.total).toBeCloseTo(8, 6);
    // Back to the held fleet's 8 slots: a worker joining now is learned before it counts.
    const third = estimateCapacity(
      [report('c', 12, 0), report('d', 12, 0), report('e', 12, 0)],
      second.memory,
      12_000,
      opts(60_000),
    );
    expect(third.estimate).toMatchObject({ workers: 2, reporting: 3 });
  });

  it('outside a hold a new worker counts only once it is learned, and a fleet never learned has none to hold', () => {
    let mem = estimateCapacity([signal(0, 0, 4)], null, 0, opts(60_000)).memory;
    for (let t = 1; t <= 6; t++)
      mem = estimateCapacity([signal(t * 1000, t * 4, 4)], mem, t * 1000, opts(60_000)).memory;
    const joined = estimateCapacity(
      [signal(7000, 28, 4), { ...signal(7000, 0, 4), id: 'w2' }],
      mem,
      7000,
      opts(60_000),
    );
    expect(joined.estimate).toMatchObject({ workers: 1, reporting: 2 });
    expect(joined.estimate.total).toBeCloseTo(4, 6);
    const never = estimateCapacity([signal(0, 0, 4)], null, 0, opts(60_000));
    expect(never.estimate).toMatchObject({ known: false, heldSince: null });
  });
});
