import { describe, expect, it } from 'vitest';
import type { WorkerSignal } from '../../common/contracts/index.ts';
import type { PolicyInput } from '../../common/policy/schema.ts';
import { estimateCapacity } from '../../controller/capacity.ts';
import type { LaneLawInput } from '../../controller/control-law.ts';
import { estimateDemand } from '../../controller/demand.ts';
import { aimdLaw } from '../../controller/laws/aimd-law.ts';
import { gradientLaw } from '../../controller/laws/gradient-law.ts';
import { Loop, plantWith, setDemand, testPolicy } from './scenario.ts';

/** The test policy with `control` fields overridden, as an ops file would. */
function tuned(law: 'aimd' | 'gradient', control: Omit<PolicyInput['control'] & object, 'law'>) {
  return testPolicy(law, { control: { law, ...control } });
}

const laneInput = (over: Partial<LaneLawInput> = {}): LaneLawInput => ({
  lane: 'chat',
  intervalMs: 1000,
  capacity: 100,
  headroom: 0,
  congested: false,
  backlogSlope: 0,
  utilisation: 1,
  pressure: 0,
  floor: 0,
  ...over,
});

const worker = (at: number, costFinished: number, jobsFinished = costFinished): WorkerSignal => ({
  source: 'worker',
  id: 'w1',
  at,
  lanes: ['chat'],
  slotsBusy: 4,
  slotsTotal: 4,
  passLatencyEwmaMs: 100,
  passLatencyP95Ms: 100,
  baselinePassMs: 100,
  jobsStarted: jobsFinished,
  jobsFinished,
  jobsAborted: 0,
  costFinished,
  oldestJobAgeMs: 0,
  blobWriteMs: 1,
  storeLatencyMs: 1,
});

const capOpts = { intervalMs: 1000, maxAgeMs: 60_000, laneShares: { chat: 1 }, backlogByLane: { chat: 5 } };

describe('every control limit is policy', () => {
  it('defaults equal the values the controller was tuned with', () => {
    const c = testPolicy('aimd').policy.control;
    expect(c).toMatchObject({
      targetWait: 0.25,
      minFactor: 0.1,
      drainLimit: 0.5,
      demandSmoothing: 0.5,
      capacity: {
        smoothing: 0.6,
        sampleJobs: 3,
        sampleWindow: 10_000,
        minUse: 0.1,
        workerLateIntervals: 1.5,
        holdAfterLoss: 60_000,
      },
      gradient: { gain: 0.5, smoothing: 0.2, queueAuthority: 0.2 },
    });
  });

  it('targetWait: the queue settles at the chosen fraction of syncWait', () => {
    const waitAt = (targetWait: number) => {
      const plant = plantWith(4, 25);
      setDemand(plant, { pro: 10, plus: 10, free: 980 });
      const loop = new Loop(plant, tuned('gradient', { targetWait })).run(900);
      const waits = loop.last(30).map((r) => r.state.lanes.chat.free.expectedWaitMs);
      return waits.reduce((a, b) => a + b, 0) / waits.length;
    };
    const quarter = waitAt(0.25);
    const half = waitAt(0.5);
    // free's syncWait is 60 s: about 15 s against about 30 s.
    expect(quarter / 60_000).toBeGreaterThan(0.15);
    expect(quarter / 60_000).toBeLessThan(0.3);
    expect(half / quarter).toBeGreaterThan(1.6);
    expect(half / quarter).toBeLessThan(2.4);
  });

  it('minFactor: the floor a congested or saturated lane is cut to', () => {
    const run = (minFactor: number) => {
      const policy = tuned('aimd', { minFactor }).policy;
      let mem = null;
      let factor = 1;
      for (let i = 0; i < 30; i++) {
        const out = aimdLaw.step(laneInput({ pressure: 3 }), mem, policy);
        mem = out.memory;
        factor = out.factor;
      }
      return factor;
    };
    expect(run(0.1)).toBeCloseTo(0.1 * 1.0, 5);
    expect(run(0.3)).toBeCloseTo(0.3, 5);
  });

  it("the input's floor: a congested queue cuts no lower, a saturated dependency does", () => {
    const policy = tuned('aimd', { minFactor: 0.1 }).policy;
    const settle = (law: typeof aimdLaw | typeof gradientLaw, over: Partial<LaneLawInput>) => {
      let mem = null;
      let factor = 1;
      for (let i = 0; i < 40; i++) {
        const out = (law as typeof aimdLaw).step(laneInput(over), mem as never, policy);
        mem = out.memory;
        factor = out.factor;
      }
      return factor;
    };
    const congested = { congested: true, headroom: -3, backlogSlope: 0.1 };
    for (const law of [aimdLaw, gradientLaw]) {
      expect(settle(law, { ...congested, floor: 0 })).toBeLessThan(0.95);
      expect(settle(law, { ...congested, floor: 0.95 })).toBeGreaterThanOrEqual(0.95);
      expect(settle(law, { ...congested, floor: 0.95, pressure: 3 })).toBeLessThan(0.5);
    }
  });

  it('drainLimit: how far a long queue cuts admission below capacity', () => {
    const cut = (law: typeof aimdLaw | typeof gradientLaw, drainLimit: number) => {
      const policy = tuned('aimd', { drainLimit, gradient: { smoothing: 1 } }).policy;
      return 1 - law.step(laneInput({ headroom: -5 }), null, policy).factor;
    };
    // aimd: window 1 × (1 − increase × drain); gradient: 1 − authority × gain × drain.
    expect(cut(aimdLaw, 0.5)).toBeCloseTo(0.05, 9);
    expect(cut(aimdLaw, 1)).toBeCloseTo(0.1, 9);
    expect(cut(gradientLaw, 0.5)).toBeCloseTo(0.05, 9);
    expect(cut(gradientLaw, 1)).toBeCloseTo(0.1, 9);
  });

  it('gradient.queueAuthority: the most an empty queue lifts admission above capacity', () => {
    const lift = (queueAuthority: number) => {
      const policy = tuned('gradient', { gradient: { smoothing: 1, gain: 1, queueAuthority } }).policy;
      return gradientLaw.step(laneInput({ headroom: 1 }), null, policy).factor - 1;
    };
    expect(lift(0.2)).toBeCloseTo(0.2, 9);
    expect(lift(0.05)).toBeCloseTo(0.05, 9);
  });

  it('capacity.workerLateIntervals: how long a silent worker still counts', () => {
    const first = estimateCapacity([worker(0, 0)], null, 0, capOpts);
    const second = estimateCapacity([worker(5000, 50)], first.memory, 5000, capOpts);
    expect(second.estimate.total).toBe(10);
    // 2.5 s after its last report, in 1 s intervals: late at 1.5 intervals, live at 3.
    const late = (workerLateIntervals: number) =>
      estimateCapacity([worker(5000, 50)], second.memory, 7500, {
        ...capOpts,
        tuning: { ...tuned('aimd', {}).policy.control.capacity, workerLateIntervals },
      }).estimate.workers;
    // Late, it is not a live worker (its capacity may still be held, see holdAfterLoss).
    expect(late(1.5)).toBe(0);
    expect(late(3)).toBe(1);
  });

  it('capacity.sampleJobs, sampleWindow and smoothing: when and how far a sample moves capacity', () => {
    const defaults = tuned('aimd', {}).policy.control.capacity;
    const learn = (tuning: typeof defaults, reports: [number, number][]) => {
      let mem = null;
      let total = 0;
      for (const [at, cost] of reports) {
        const out = estimateCapacity([worker(at, cost)], mem, at, { ...capOpts, tuning });
        mem = out.memory;
        total = out.estimate.total;
      }
      return total;
    };
    // 2 jobs in 1 s: not a sample under sampleJobs 3, a sample under 2.
    const twoJobs: [number, number][] = [
      [0, 0],
      [1000, 2],
    ];
    expect(learn(defaults, twoJobs)).toBe(0);
    expect(learn({ ...defaults, sampleJobs: 2 }, twoJobs)).toBe(2);
    // sampleWindow: one job in 3 s is taken once the window is that long.
    const slow: [number, number][] = [
      [0, 0],
      [3000, 1],
    ];
    expect(learn(defaults, slow)).toBe(0);
    expect(learn({ ...defaults, sampleWindow: 3000 }, slow)).toBeCloseTo(1 / 3, 9);
    // From 10/s to 20/s: one sample moves the estimate by `smoothing` of the step.
    const step: [number, number][] = [
      [0, 0],
      [1000, 10],
      [2000, 30],
    ];
    expect(learn(defaults, step)).toBeCloseTo(10 + 0.6 * 10, 9);
    expect(learn({ ...defaults, smoothing: 0.2 }, step)).toBeCloseTo(10 + 0.2 * 10, 9);
  });

  it('demandSmoothing: how far one interval moves the demand estimate', () => {
    const gw = (at: number, offered: number) => ({
      source: 'gateway' as const,
      id: 'g',
      at,
      authLatencyMs: 1,
      authErrorRate: 0,
      authCacheHitRate: 1,
      storeLatencyMs: 1,
      offered: { 'chat/free': offered },
      admitted: {},
      shed: {},
      signups: 0,
    });
    const smoothedAfterTwo = (k: number) => {
      let mem = null;
      let rate = 0;
      for (const [at, offered] of [
        [0, 0],
        [1000, 10],
        [2000, 40],
      ]) {
        const out = estimateDemand([gw(at, offered)], mem, at, 5000, k);
        mem = out.memory;
        rate = out.rates.offered['chat/free'] ?? 0;
      }
      return rate;
    };
    // Measured 0 (first report), then 10/s, then 30/s: each interval moves the estimate by k of the gap.
    expect(smoothedAfterTwo(0.5)).toBeCloseTo(5 + 0.5 * (30 - 5), 9);
    expect(smoothedAfterTwo(0.2)).toBeCloseTo(2 + 0.2 * (30 - 2), 9);
    expect(smoothedAfterTwo(1)).toBeCloseTo(30, 9);
  });
});
