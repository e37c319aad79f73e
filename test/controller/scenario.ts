import type { AdmissionState } from '../../common/contracts/index.ts';
import { type ActivePolicy, Policy, type PolicyInput } from '../../common/policy/schema.ts';
import { type ControllerMemory, type ControlView, controlStep } from '../../controller/control-step.ts';
import { laneTier } from '../../controller/observation.ts';
import { SimulatedPlant } from '../../controller/plant.ts';
import { staticAdmission } from '../../common/policy/static-admission.ts';

/** The default policy's tiers and lanes, written out so the tests do not move when ops edit the YAML. */
export function testPolicy(law: 'aimd' | 'gradient', extra: Partial<PolicyInput> = {}): ActivePolicy {
  const input: PolicyInput = {
    models: {
      default: 'm',
      available: [{ name: 'm', sizes: ['1024x1024'], defaultSize: '1024x1024', passes: 4 }],
    },
    tiers: {
      pro: { priority: 30, weight: 8, maxWait: '10m', syncWait: '120s', rateLimit: '600/min', brownout: [] },
      plus: {
        priority: 20,
        weight: 4,
        maxWait: '5m',
        syncWait: '90s',
        rateLimit: '120/min',
        brownout: [{ partialImages: 1 }],
      },
      free: {
        priority: 10,
        weight: 1,
        maxWait: '2m',
        syncWait: '60s',
        rateLimit: '10/min',
        brownout: [
          { partialImages: 1 },
          { passes: 3, partialImages: 0 },
          { passes: 2, maxSize: '512x512', partialImages: 0, edits: false },
        ],
      },
    },
    lanes: { chat: { share: 0.7 }, api: { share: 0.3 } },
    operations: { generate: { cost: 1 }, edit: { cost: 2 } },
    control: { law },
    fallback: {
      chat: { pro: '20/s', plus: '10/s', free: '2/s' },
      api: { pro: '10/s', plus: '5/s', free: '1/s' },
    },
    ...extra,
  };
  return { policy: Policy.parse(input), version: `test-${law}`, files: [], loadedAt: 0 };
}

export const TIERS = ['pro', 'plus', 'free'];
export const LANES = { chat: 0.7, api: 0.3 };

/** Share of requests that are edits (cost 2) in every tier of the plant. */
export const EDIT_SHARE = 0.2;

/**
 * A plant shaped by the test policy: generations cost 1 and edits 2 (a fifth of requests), a
 * brownout with fewer passes is cheaper on the GPU, jobs expire past their tier's maxWait.
 */
export function plantWith(
  workers: number,
  capacityEach: number,
  active = testPolicy('aimd'),
): SimulatedPlant {
  const { policy } = active;
  return new SimulatedPlant({
    lanes: LANES,
    tiers: TIERS,
    workers: Array.from({ length: workers }, (_, i) => ({
      id: `w${i}`,
      lanes: ['chat', 'api'],
      capacity: capacityEach,
      slots: 8,
    })),
    costs: { generate: policy.operations.generate.cost, edit: policy.operations.edit.cost },
    editShare: Object.fromEntries(TIERS.map((t) => [t, EDIT_SHARE])),
    passes: policy.models.available[0].passes,
    maxWaitMs: Object.fromEntries(TIERS.map((t) => [t, policy.tiers[t].maxWait])),
  });
}

/** Offered cost units per second per tier, split across lanes by their shares. */
export function setDemand(plant: SimulatedPlant, byTier: Record<string, number>) {
  for (const [lane, share] of Object.entries(LANES)) {
    for (const [tier, rate] of Object.entries(byTier)) plant.demand[laneTier(lane, tier)] = rate * share;
  }
}

export interface IntervalRecord {
  state: AdmissionState;
  view: ControlView;
  /** Per tier over the interval, cost units per second. */
  offered: Record<string, number>;
  admitted: Record<string, number>;
  /** Per tier over the interval, cost units that expired in the queue. */
  expired: Record<string, number>;
  /** Cost units per second the plant finished. */
  served: number;
  /** GPU work the live workers could do and did over the interval. */
  gpuOffered: number;
  gpuUsed: number;
  /** Longest wait of any job served so far, per tier (ms). */
  maxServedWaitMs: Record<string, number>;
  capacity: number;
}

/** Runs the real control step against the plant for `intervals` control intervals. */
export class Loop {
  memory: ControllerMemory | null = null;
  version = 0;
  readonly history: IntervalRecord[] = [];

  constructor(
    readonly plant: SimulatedPlant,
    public active: ActivePolicy,
  ) {
    // Before the first state, gateways run on the static fallback, as they do in production.
    plant.apply(staticAdmission(active, plant.now));
  }

  run(intervals: number) {
    const ms = this.active.policy.control.interval;
    for (let i = 0; i < intervals; i++) {
      const before = structuredClone(this.plant.totals);
      const gpu = { ...this.plant.gpu };
      const capacity = this.plant.capacity();
      this.plant.advance(ms);
      const out = controlStep(this.plant.inputs(), this.memory, this.active, {
        version: ++this.version,
        epoch: 1,
      });
      this.memory = out.memory;
      this.plant.apply(out.state);
      const offered: Record<string, number> = {};
      const admitted: Record<string, number> = {};
      const expired: Record<string, number> = {};
      const maxServedWaitMs: Record<string, number> = {};
      let served = 0;
      for (const [k, t] of Object.entries(this.plant.totals)) {
        const tier = k.split('/')[1];
        offered[tier] = (offered[tier] ?? 0) + ((t.offered - before[k].offered) * 1000) / ms;
        admitted[tier] = (admitted[tier] ?? 0) + ((t.admitted - before[k].admitted) * 1000) / ms;
        expired[tier] = (expired[tier] ?? 0) + (t.expired - before[k].expired);
        maxServedWaitMs[tier] = Math.max(maxServedWaitMs[tier] ?? 0, t.maxServedWaitMs);
        served += ((t.served - before[k].served) * 1000) / ms;
      }
      this.history.push({
        state: out.state,
        view: out.view,
        offered,
        admitted,
        expired,
        served,
        gpuOffered: this.plant.gpu.offered - gpu.offered,
        gpuUsed: this.plant.gpu.used - gpu.used,
        maxServedWaitMs,
        capacity,
      });
    }
    return this;
  }

  last(n: number) {
    return this.history.slice(-n);
  }
}

export function totalAdmitted(r: IntervalRecord): number {
  return Object.values(r.admitted).reduce((a, b) => a + b, 0);
}

/** A controller memory with nothing learned yet, as a handover would carry it. */
export function emptyMemory(at: number, law: string): ControllerMemory {
  return { at, law, capacity: null, demand: null, lawMemory: {}, factors: {}, backlogCost: {}, brownout: {} };
}
