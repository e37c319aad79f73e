import { describe, expect, it } from 'vitest';
import type { AdmissionState, TierAdmission, WorkerSignal } from '../../common/contracts/index.ts';
import { estimateCapacity } from '../../controller/capacity.ts';
import { SimulatedPlant } from '../../controller/plant.ts';
import { uncappedTierAdmission } from '../../common/policy/static-admission.ts';

/** One lane, one tier, one worker of 10 GPU units/s: small enough to check by hand. */
function plant(over: { editShare?: number; capacity?: number; maxWaitMs?: number } = {}) {
  return new SimulatedPlant({
    lanes: { chat: 1 },
    tiers: ['free'],
    workers: [{ id: 'w', lanes: ['chat'], capacity: over.capacity ?? 10, slots: 4 }],
    costs: { generate: 1, edit: 2 },
    editShare: { free: over.editShare ?? 0 },
    passes: 4,
    maxWaitMs: over.maxWaitMs === undefined ? undefined : { free: over.maxWaitMs },
  });
}

function state(tier: Partial<TierAdmission>): AdmissionState {
  return {
    v: 1,
    version: 1,
    epoch: 1,
    issuedAt: 0,
    ttlMs: 10_000,
    policyVersion: 't',
    law: 'aimd',
    lanes: {
      chat: {
        free: { ...uncappedTierAdmission(1), ...tier },
      },
    },
    signup: { rate: null, burst: 0 },
    reasons: [],
  };
}

const workerReport = (p: SimulatedPlant) =>
  p.signals().find((s): s is WorkerSignal => s.source === 'worker')!;

describe('simulated plant', () => {
  it('edits cost twice a generation: workers report cost and jobs, the controller learns the mean cost', () => {
    const p = plant({ editShare: 0.5 });
    p.demand['chat/free'] = 6; // 2 generations + 2 edits per second
    p.advance(1000);
    const first = estimateCapacity([workerReport(p)], null, p.now, {
      intervalMs: 1000,
      maxAgeMs: 5000,
      laneShares: { chat: 1 },
      backlogByLane: { chat: 0 },
    });
    p.advance(10_000);
    const r = workerReport(p);
    expect(r.costFinished).toBeCloseTo(66, 6);
    const second = estimateCapacity([r], first.memory, p.now, {
      intervalMs: 1000,
      maxAgeMs: 5000,
      laneShares: { chat: 1 },
      backlogByLane: { chat: 0 },
    });
    // Whole jobs are reported: 43 or 44 after 11 s of 4 jobs/s, so about 1.5 cost units a job.
    expect(second.estimate.jobCost).toBeGreaterThan(1.4);
    expect(second.estimate.jobCost).toBeLessThan(1.6);
  });

  it('a brownout with half the passes halves the GPU work of a cost unit', () => {
    const full = plant();
    const half = plant();
    half.apply(state({ brownout: { level: 2, passes: 2 } }));
    for (const p of [full, half]) {
      p.demand['chat/free'] = 100;
      p.advance(10_000);
    }
    // Same GPU, saturated in both: twice the cost units finished at half the passes.
    expect(full.gpu.used / full.gpu.offered).toBeCloseTo(1, 6);
    expect(half.gpu.used / half.gpu.offered).toBeCloseTo(1, 6);
    expect(half.totals['chat/free'].served / full.totals['chat/free'].served).toBeCloseTo(2, 2);
  });

  it('a brownout step without edits refuses them at the gateway', () => {
    const p = plant({ editShare: 0.5 });
    p.apply(state({ edits: false }));
    p.demand['chat/free'] = 6;
    p.advance(10_000);
    const t = p.totals['chat/free'];
    // Only the generations (2 of every 6 cost units offered) get in.
    expect(t.admitted / t.offered).toBeCloseTo(1 / 3, 6);
    expect(t.jobsAdmitted).toBeCloseTo(20, 6);
  });

  it("expires jobs queued past their tier's maxWait without spending GPU on them", () => {
    const p = plant({ capacity: 1, maxWaitMs: 5000 });
    p.demand['chat/free'] = 3;
    p.advance(30_000);
    const t = p.totals['chat/free'];
    // 1 unit/s is served; of the 2 more arriving each second, those 5 s old leave as expired.
    expect(t.expired).toBeGreaterThan(40);
    expect(t.maxServedWaitMs).toBeLessThanOrEqual(5000);
    expect(t.work).toBeCloseTo(p.gpu.used, 6);
    expect(p.gpu.used).toBeCloseTo(30, 6);
    // At most 5 s of arrivals (plus the step that just arrived) still wait.
    expect(p.queue['chat/free']).toBeLessThanOrEqual(3 * 5.1 + 1e-6);
    // Tickets behind an expired job move on: the queue the controller sees is what still waits.
    const q = p.queueStats()[0];
    expect(q.issued - q.served).toBeLessThanOrEqual(3 * 5 + 1);
  });
});
