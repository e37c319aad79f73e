import { describe, expect, it } from 'vitest';
import type { WorkerSignal } from '../../common/contracts/index.ts';
import { estimateCapacity } from '../../controller/capacity.ts';

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
