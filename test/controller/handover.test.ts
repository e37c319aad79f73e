import { describe, expect, it } from 'vitest';
import type { AdmissionState, GatewaySignal, WorkerSignal } from '../../common/contracts/index.ts';
import { createLogger } from '../../common/log.ts';
import { createMemoryInfra } from '../../common/memory-infra.ts';
import { StaticPolicySource } from '../../common/policy/policy-source.ts';
import type { ActivePolicy } from '../../common/policy/schema.ts';
import { type ControllerMemory, controlStep } from '../../controller/control-step.ts';
import { HANDOVER_VERSION, resumeFrom, toHandover } from '../../controller/handover.ts';
import { leaseTtlMs } from '../../controller/leader-lease.ts';
import { Controller } from '../../controller/service.ts';
import { type ControlInputs, laneTier } from '../../controller/observation.ts';
import { emptyMemory, Loop, plantWith, setDemand, TIERS, testPolicy } from './scenario.ts';

const log = createLogger('controller-test', 'silent');
const INTERVAL = 200;
const TTL = 2000;

describe('resumeFrom', () => {
  const memory = emptyMemory(1000, 'aimd') as unknown as Record<string, unknown>;
  const handover = { v: HANDOVER_VERSION, epoch: 3, at: 1000, memory };

  it('resumes a fresh handover of this shape from an earlier epoch', () => {
    expect(resumeFrom(handover, 4, 2500, TTL)).toEqual({ resumed: true, memory, fromEpoch: 3, ageMs: 1500 });
  });

  it('starts cold on none, another shape, its own or a later epoch, an old one, or malformed memory', () => {
    expect(resumeFrom(null, 4, 2500, TTL)).toMatchObject({ resumed: false, why: 'no handover' });
    expect(resumeFrom({ ...handover, v: HANDOVER_VERSION + 1 }, 4, 2500, TTL)).toMatchObject({
      resumed: false,
    });
    expect(resumeFrom(handover, 3, 2500, TTL)).toMatchObject({ resumed: false });
    expect(resumeFrom(handover, 4, 1000 + TTL + 1, TTL)).toMatchObject({
      resumed: false,
      why: `handover ${TTL + 1} ms old`,
    });
    const { factors: _, ...noFactors } = memory;
    expect(resumeFrom({ ...handover, memory: noFactors }, 4, 2500, TTL)).toMatchObject({
      resumed: false,
      why: 'handover memory malformed',
    });
  });
});

describe.each(['aimd', 'gradient'] as const)('memory survives JSON, as the stores keep it (%s)', (law) => {
  it('every interval of an overloaded closed loop round-trips unchanged', () => {
    const plant = plantWith(2, 2);
    setDemand(plant, { pro: 2, plus: 4, free: 400 });
    const loop = new Loop(plant, testPolicy(law));
    for (let i = 0; i < 120; i++) {
      loop.run(1);
      const memory = loop.memory!;
      expect(JSON.parse(JSON.stringify(toHandover(memory, 1, memory.at)))).toEqual(
        toHandover(memory, 1, memory.at),
      );
    }
  });
});

/** One worker finishing 4 cost units a second with all 4 slots busy, and one gateway offering 3× that. */
class Fleet {
  private readonly started: number;
  constructor(
    private readonly infra: ReturnType<typeof createMemoryInfra>,
    now: number,
  ) {
    this.started = now;
  }

  async report(now: number) {
    const s = (now - this.started) / 1000;
    const worker: WorkerSignal = {
      source: 'worker',
      id: 'w1',
      at: now,
      lanes: ['chat', 'api'],
      slotsBusy: 4,
      slotsTotal: 4,
      busySlotMs: 4 * (now - this.started),
      passLatencyEwmaMs: 100,
      passLatencyP95Ms: 120,
      baselinePassMs: 100,
      jobsStarted: Math.floor(4 * s) + 4,
      jobsFinished: Math.floor(4 * s),
      jobsAborted: 0,
      costFinished: 4 * s,
      oldestJobAgeMs: 0,
      blobWriteMs: 1,
      storeLatencyMs: 1,
    };
    const offered = { 'chat/pro': 2 * s, 'chat/plus': 4 * s, 'chat/free': 6 * s };
    const gateway: GatewaySignal = {
      source: 'gateway',
      id: 'g1',
      at: now,
      authLatencyMs: 1,
      authErrorRate: 0,
      authCacheHitRate: 1,
      storeLatencyMs: 1,
      offered,
      admitted: { 'chat/pro': 2 * s, 'chat/plus': 2 * s, 'chat/free': 0 },
      shed: { 'chat/pro': 0, 'chat/plus': 2 * s, 'chat/free': 6 * s },
      signups: 0,
    };
    await this.infra.coord.reportSignal(worker, 60_000);
    await this.infra.coord.reportSignal(gateway, 60_000);
  }
}

describe('controller failover', () => {
  async function failover(outageMs: number) {
    const infra = createMemoryInfra();
    const policy = new StaticPolicySource(
      testPolicy('aimd', { control: { interval: `${INTERVAL}ms`, ttl: `${TTL}ms` } }),
    );
    let clock = 1_000_000;
    const now = () => clock;
    const fleet = new Fleet(infra, clock);
    const a = new Controller({ infra, policy, log, id: 'a', now });
    const b = new Controller({ infra, policy, log, id: 'b', now });
    const step = async (...controllers: Controller[]) => {
      clock += INTERVAL;
      await fleet.report(clock);
      for (const c of controllers) await c.tick();
      return (await infra.coord.readAdmission())!;
    };
    let lastOfA: AdmissionState | null = null;
    for (let i = 0; i < 60; i++) lastOfA = await step(a, b);
    expect(a.status().leader).toBe(true);
    expect(lastOfA!.reasons.join(' ')).not.toContain('capacity unknown');
    // a dies without releasing its lease; b is cut off for `outageMs`, then takes over.
    for (let t = 0; t < outageMs; t += INTERVAL) await step();
    let first = lastOfA!;
    for (let i = 0; i < 20 && first.epoch === lastOfA!.epoch; i++) first = await step(b);
    return { lastOfA: lastOfA!, first, b };
  }

  it("the successor carries on from its predecessor's memory: learned capacity and rates, not the static fallback", async () => {
    const { lastOfA, first, b } = await failover(0);
    expect(first.epoch).toBeGreaterThan(lastOfA.epoch);
    expect(first.reasons.join(' ')).not.toContain('capacity unknown');
    for (const tier of ['pro', 'plus'] as const) {
      const before = lastOfA.lanes.chat[tier].rate!;
      expect(Math.abs(first.lanes.chat[tier].rate! - before) / before).toBeLessThan(0.2);
    }
    expect(b.status().resumedFrom).toMatchObject({ epoch: lastOfA.epoch });
    expect(b.status().resumedFrom!.ageMs).toBeLessThanOrEqual(leaseTtlMs(INTERVAL) + INTERVAL);
  });

  it('a handover older than the state TTL is not used: the successor starts cold', async () => {
    const { first, b } = await failover(TTL + INTERVAL);
    expect(first.reasons.join(' ')).toContain('capacity unknown');
    expect(b.status().resumedFrom).toBeNull();
  });
});

describe('a handover across a policy that renamed a lane', () => {
  it('keeps what was learned of the fleet and of the lanes that stayed, and carries nothing under the old name', () => {
    const plant = plantWith(2, 2);
    setDemand(plant, { pro: 2, plus: 4, free: 400 });
    // Only chat has traffic, so the renamed lane is as idle under its new name as under its old.
    for (const tier of TIERS) plant.demand[laneTier('api', tier)] = 0;
    const before = testPolicy('aimd');
    const loop = new Loop(plant, before);
    loop.run(60);
    const handedOver = () => JSON.parse(JSON.stringify(loop.memory)) as ControllerMemory;
    // The successor reads a policy in which ops renamed the `api` lane `partner`.
    const { api, ...keep } = before.policy.lanes;
    const { api: apiFallback, ...keepFallback } = before.policy.fallback;
    const renamed: ActivePolicy = {
      ...before,
      version: 'renamed',
      policy: {
        ...before.policy,
        lanes: { ...keep, partner: api },
        fallback: { ...keepFallback, partner: apiFallback },
      },
    };
    const inputs = plant.inputs();
    const same = controlStep(inputs, handedOver(), before, { version: 1, epoch: 2 });
    // Workers serving every lane of the policy (the default) report the new name once they reload it.
    const rename = (lane: string) => (lane === 'api' ? 'partner' : lane);
    const renamedInputs: ControlInputs = {
      ...inputs,
      signals: inputs.signals.map((s) => (s.source === 'worker' ? { ...s, lanes: s.lanes.map(rename) } : s)),
      queue: inputs.queue.map((q) => ({ ...q, lane: rename(q.lane) })),
    };
    const out = controlStep(renamedInputs, handedOver(), renamed, { version: 1, epoch: 2 });
    expect(Object.keys(out.state.lanes).sort()).toEqual(['chat', 'partner']);
    for (const field of ['lawMemory', 'factors', 'backlogCost'] as const)
      expect(Object.keys(out.memory[field]).sort(), field).toEqual(['chat', 'partner']);
    expect(JSON.stringify(out.memory.brownout)).not.toContain('api');
    expect(out.state.reasons.join(' ')).not.toContain('capacity unknown');
    expect(out.view.capacity.total).toBeCloseTo(same.view.capacity.total, 6);
    expect(Object.keys(out.view.capacity.byLane).sort()).toEqual(['chat', 'partner']);
    // The lane that kept its name carries on exactly as it would have without the rename.
    expect(out.state.lanes.chat).toEqual(same.state.lanes.chat);
    expect(out.memory.lawMemory.chat).toEqual(same.memory.lawMemory.chat);
  });
});
