import { describe, expect, it } from 'vitest';
import { Loop, plantWith, setDemand, testPolicy, totalAdmitted } from './scenario.ts';

const CAPACITY = 100; // 4 workers × 25 cost units/s
const WARMUP = 1200; // intervals until the queue has settled at its target wait
const PAID = ['pro', 'plus'];

const sum = (r: Record<string, number>, keys: string[]) => keys.reduce((a, k) => a + (r[k] ?? 0), 0);

describe.each(['aimd', 'gradient'] as const)('closed loop against the simulated plant (%s)', (law) => {
  it('at 10× overload admits all paid demand, keeps the GPUs busy and every wait bounded, steadily', () => {
    const plant = plantWith(4, 25);
    // Demand is ten times capacity; paid traffic is 20 % of capacity, the flood is free.
    setDemand(plant, { pro: 10, plus: 10, free: 10 * CAPACITY - 20 });
    const loop = new Loop(plant, testPolicy(law)).run(WARMUP);
    const steady = loop.last(60);
    const paidOffered = steady.reduce((a, r) => a + sum(r.offered, PAID), 0);
    const paidAdmitted = steady.reduce((a, r) => a + sum(r.admitted, PAID), 0);
    expect(paidAdmitted / paidOffered).toBeGreaterThanOrEqual(0.99);
    const utilisation = steady.reduce((a, r) => a + r.served, 0) / steady.reduce((a, r) => a + r.capacity, 0);
    expect(utilisation).toBeGreaterThanOrEqual(0.9);
    for (const r of steady) {
      for (const tiers of Object.values(r.state.lanes)) {
        for (const a of Object.values(tiers)) expect(a.expectedWaitMs).toBeLessThanOrEqual(a.maxWaitMs);
      }
    }
    const rates = steady.map(totalAdmitted);
    const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
    expect((Math.max(...rates) - Math.min(...rates)) / mean).toBeLessThanOrEqual(0.1);
    // The flood is refused, not queued without bound.
    expect(steady.at(-1)!.state.lanes.chat.free.brownout.level).toBeGreaterThan(0);
  });

  it('follows a halving of capacity within three intervals', () => {
    const plant = plantWith(4, 25);
    setDemand(plant, { pro: 10, plus: 10, free: 10 * CAPACITY - 20 });
    const loop = new Loop(plant, testPolicy(law)).run(WARMUP);
    plant.killWorker('w0');
    plant.killWorker('w1');
    loop.run(30);
    const after = loop.last(30);
    const newCapacity = CAPACITY / 2;
    // From the third interval on, admission stays within 10 % of what the plant can now serve.
    for (const r of after.slice(2)) {
      expect(Math.abs(totalAdmitted(r) - newCapacity) / newCapacity).toBeLessThanOrEqual(0.1);
    }
    for (const r of after) {
      for (const tiers of Object.values(r.state.lanes)) {
        for (const a of Object.values(tiers)) expect(a.expectedWaitMs).toBeLessThanOrEqual(a.maxWaitMs);
      }
    }
  });

  it('when paid demand alone exceeds capacity, no free request is admitted while paid is refused', () => {
    const plant = plantWith(4, 25);
    // 20 % of a 10× demand is paid: twice what the plant can serve.
    setDemand(plant, { pro: CAPACITY / 2, plus: (3 * CAPACITY) / 2, free: 8 * CAPACITY });
    const loop = new Loop(plant, testPolicy(law)).run(600);
    const steady = loop.last(60);
    for (const r of steady) {
      const paidRefused = sum(r.admitted, PAID) < 0.99 * sum(r.offered, PAID);
      if (paidRefused) expect(r.admitted.free).toBeLessThan(1e-9);
    }
    const paidAdmitted = steady.reduce((a, r) => a + sum(r.admitted, PAID), 0) / steady.length;
    expect(paidAdmitted / CAPACITY).toBeGreaterThanOrEqual(0.9);
    // Pro, the higher tier, gets served before plus.
    const last = steady.at(-1)!;
    expect(last.admitted.pro).toBeGreaterThan(0.99 * last.offered.pro);
  });
});

describe('capacity is learned, not configured', () => {
  it('a worker joining raises admission with no policy change', () => {
    const plant = plantWith(2, 25);
    setDemand(plant, { pro: 5, plus: 5, free: 500 });
    const loop = new Loop(plant, testPolicy('aimd')).run(300);
    const before = totalAdmitted(loop.last(1)[0]);
    plant.addWorker({ id: 'w9', lanes: ['chat', 'api'], capacity: 50, slots: 8 });
    loop.run(10);
    const after = totalAdmitted(loop.last(1)[0]);
    expect(after / before).toBeGreaterThan(1.8);
  });
});
