import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type GatewaySignal, isFresh, jobTopic } from '../../common/contracts/index.ts';
import { loadConfig } from '../../common/config.ts';
import { createDistributedInfra } from '../../common/distributed-infra.ts';
import type { Infra } from '../../common/infra.ts';
import { createLogger } from '../../common/log.ts';
import { StaticPolicySource } from '../../common/policy/policy-source.ts';
import { startController } from '../../controller/service.ts';
import { ModelPool } from '../../inference/model-pool.ts';
import { startSignalReporter } from '../../inference/signals.ts';
import { InferenceWorker } from '../../inference/worker.ts';
import { enqueue, jobMessage, testModels } from '../inference/fixtures.ts';
import { PacedModels } from './paced-models.ts';
import { testPolicy } from './scenario.ts';

const log = createLogger('controller-real', 'silent');
const dataDir = mkdtempSync(join(tmpdir(), 'spillway-ctl-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** A lane of its own: its topics and consumer group are this run's alone. */
const LANE = `half${randomBytes(4).toString('hex')}`;
const WORKERS = 4;
/** Jobs are 128×128 in 2 passes (64² then 128²): ~0.4 s of paced decode per job, a few ms of CPU. */
const MS_PER_MEGAPIXEL = 20_000;
const SIZE = '128x128';
const PASSES = 2;
/** Offered per second: free floods at several times capacity; paid stays well under half of it. */
const FREE_OFFERED = 30;
const PRO_OFFERED = 1;
/** Free jobs already queued at the start: a few seconds of work for all the workers. */
const PREFILL = 40;

const connect = (clientId: string) =>
  createDistributedInfra(
    loadConfig({
      SPILLWAY_MODE: 'distributed',
      SPILLWAY_REDIS_URL: inject('redis').url,
      SPILLWAY_KAFKA_BROKERS: inject('kafka').brokers,
      // One partition per worker, so every worker has work before half of them go.
      SPILLWAY_KAFKA_PARTITIONS: String(WORKERS),
      SPILLWAY_DATA_DIR: dataDir,
    }),
    log,
    { clientId },
  );

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A stand-in gateway for one lane: offers pro and free traffic, admits what the published state's
 * global token buckets allow, enqueues like the gateway, and reports its counters as a gateway does.
 */
function traffic(infra: Infra) {
  const counters = {
    offered: {} as Record<string, number>,
    admitted: {} as Record<string, number>,
    shed: {} as Record<string, number>,
  };
  const proJobs: { id: string; at: number }[] = [];
  const owed: Record<string, number> = { pro: 0, free: 0 };
  let stopped = false;
  const count = (kind: keyof typeof counters, tier: string) => {
    const k = `${LANE}/${tier}`;
    counters[kind][k] = (counters[kind][k] ?? 0) + 1;
  };
  const publish = async (tier: 'pro' | 'free', now: number) => {
    const m = jobMessage({
      lane: LANE,
      tier,
      params: { size: SIZE },
      deadline: now + (tier === 'pro' ? 60_000 : 30_000),
    });
    await enqueue(infra, m, PASSES);
    await infra.queue.publish(jobTopic(LANE, tier), {
      key: m.id,
      value: Buffer.from(JSON.stringify(m)),
      headers: {},
    });
    return m.id;
  };
  const offer = async (tier: 'pro' | 'free', now: number) => {
    const state = await infra.coord.readAdmission();
    const a = state && isFresh(state, now) ? state.lanes[LANE]?.[tier] : null;
    count('offered', tier);
    const ok =
      a &&
      a.mode !== 'shed' &&
      (a.rate === null || (await infra.coord.takeTokens(`${LANE}/${tier}`, 1, a.rate, a.burst, now)).ok);
    if (!ok) return count('shed', tier);
    count('admitted', tier);
    const id = await publish(tier, now);
    if (tier === 'pro') proJobs.push({ id, at: now });
  };
  let started = false;
  const loop = async () => {
    while (!started && !stopped) await sleep(20);
    let lastReport = 0;
    let last = Date.now();
    while (!stopped) {
      const now = Date.now();
      owed.pro += (PRO_OFFERED * (now - last)) / 1000;
      owed.free += (FREE_OFFERED * (now - last)) / 1000;
      last = now;
      for (const tier of ['pro', 'free'] as const) {
        for (; owed[tier] >= 1; owed[tier]--) await offer(tier, now);
      }
      if (now - lastReport >= 1000) {
        lastReport = now;
        const signal: GatewaySignal = {
          source: 'gateway',
          id: `stand-in-${LANE}`,
          at: now,
          authLatencyMs: 1,
          authErrorRate: 0,
          authCacheHitRate: 1,
          storeLatencyMs: 1,
          ...structuredClone(counters),
          signups: 0,
        };
        await infra.coord.reportSignal(signal, 5000);
      }
      await sleep(50);
    }
  };
  const done = loop();
  return {
    /** A backlog already waiting when the test starts, as after a spike (not counted as offered). */
    prefill: async (jobs: number) => {
      for (let i = 0; i < jobs; i++) await publish('free', Date.now());
    },
    start: () => {
      started = true;
    },
    counters,
    proJobs,
    admitted: () => Object.values(counters.admitted).reduce((a, b) => a + b, 0),
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

interface Sample {
  t: number;
  /** The lane's budget: the rate its highest tier may take (cost units/s). */
  budget: number;
  admitted: number;
  finished: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Rate of a cumulative counter between two samples, per second. */
const rate = (a: Sample, b: Sample, pick: (s: Sample) => number) =>
  ((pick(b) - pick(a)) * 1000) / (b.t - a.t);

describe('over real Kafka and Redis with inference workers', () => {
  it('halving the workers under load halves admission within a few intervals; paid jobs keep completing', async () => {
    const bundle = await testModels();
    const active = testPolicy('gradient', {
      tiers: {
        pro: { priority: 30, weight: 8, maxWait: '60s', syncWait: '20s', rateLimit: '600/min', brownout: [] },
        free: { priority: 10, weight: 1, maxWait: '30s', syncWait: '8s', rateLimit: '600/min', brownout: [] },
      },
      lanes: { [LANE]: { share: 1 } },
      fallback: { [LANE]: { pro: '2/s', free: '1/s' } },
      control: { law: 'gradient', interval: '500ms' },
    });
    const interval = active.policy.control.interval;
    const policy = new StaticPolicySource(active);
    const ids = Array.from({ length: WORKERS }, (_, i) => `${LANE}-w${i}`);
    const infras = await Promise.all(['ctl', 'load', ...ids].map(connect));
    const [ctlInfra, loadInfra, ...workerInfras] = infras;
    await ctlInfra.queue.ensureTopics([jobTopic(LANE, 'pro'), jobTopic(LANE, 'free')]);
    const load = traffic(loadInfra);
    // Workers start saturated, so capacity is learned from full slots rather than probed from the
    // static fallback's low rates (see the report: probing up from below is slow).
    await load.prefill(PREFILL);
    // One model thread shared by all workers: the pacing, not the CPU, bounds what they finish.
    const pool = await ModelPool.start(bundle, 1);
    const models = new PacedModels(pool, MS_PER_MEGAPIXEL);
    const workers = await Promise.all(
      ids.map(async (id, i) => {
        const w = new InferenceWorker({
          infra: workerInfras[i],
          policy,
          log,
          workerId: id,
          slots: 1,
          lanes: [LANE],
          models,
          categories: { text: bundle.textCategories, visual: bundle.visualCategories },
        });
        w.stats.calibrate(MS_PER_MEGAPIXEL);
        await w.start();
        const stopSignals = startSignalReporter(workerInfras[i].coord, () => w.stats.signal(id, [LANE]));
        return {
          costFinished: () => w.stats.signal(id, [LANE]).costFinished,
          close: async () => {
            stopSignals();
            await w.close();
          },
        };
      }),
    );
    const controller = await startController({ infra: ctlInfra, policy, log, id: `ctl-${LANE}` });
    load.start();
    const live = new Set(workers);
    const samples: Sample[] = [];
    let finishedByGone = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const state = await ctlInfra.coord.readAdmission();
        const budget = state?.lanes[LANE]?.pro?.rate ?? 0;
        const finished = finishedByGone + [...live].reduce((a, w) => a + w.costFinished(), 0);
        samples.push({ t: Date.now(), budget, admitted: load.admitted(), finished });
        await sleep(interval / 2);
      }
    })();
    const window = (from: number, to: number) => samples.filter((s) => s.t >= from && s.t <= to);
    try {
      // Until the controller has learned capacity from jobs finished, and then a settling time.
      const t0 = Date.now();
      while (!(await ctlInfra.coord.readAdmission())?.reasons.some((r) => r.startsWith(`${LANE}: budget`))) {
        if (Date.now() - t0 > 30_000) throw new Error('the controller never learned capacity');
        await sleep(200);
      }
      await sleep(6_000);
      const beforeFrom = Date.now();
      await sleep(8_000);
      const killedAt = Date.now();
      const before = window(beforeFrom, killedAt);
      // Half the workers go; what they finished stays counted.
      const gone = workers.slice(WORKERS / 2);
      for (const w of gone) {
        live.delete(w);
        finishedByGone += w.costFinished();
      }
      await Promise.all(gone.map((w) => w.close()));
      await sleep(14_000);
      const end = Date.now();
      const after = window(killedAt, end);
      const settled = window(killedAt + 6 * interval, end);
      sampling = false;
      await sampler;

      const budgetBefore = mean(before.map((s) => s.budget));
      const budgetAfter = mean(settled.map((s) => s.budget));
      const finishedBefore = rate(before[0], before.at(-1)!, (s) => s.finished);
      const finishedAfter = rate(settled[0], settled.at(-1)!, (s) => s.finished);
      const admittedBefore = rate(before[0], before.at(-1)!, (s) => s.admitted);
      const admittedAfter = rate(settled[0], settled.at(-1)!, (s) => s.admitted);
      const followedAt = after.find((s) => s.budget <= 0.65 * budgetBefore)?.t ?? Number.POSITIVE_INFINITY;
      const budgetRange = settled.map((s) => s.budget / budgetBefore);
      const figures = {
        budgetBefore,
        budgetAfter,
        budgetRatio: budgetAfter / budgetBefore,
        budgetRatioRange: [Math.min(...budgetRange), Math.max(...budgetRange)],
        followedInIntervals: (followedAt - killedAt) / interval,
        finishedBefore,
        finishedAfter,
        finishedRatio: finishedAfter / finishedBefore,
        admittedBefore,
        admittedAfter,
      };
      console.log(JSON.stringify(figures));
      // The plant really halved: the pacing, not the CPU, bounds what the workers finish.
      expect(figures.finishedRatio).toBeGreaterThan(0.4);
      expect(figures.finishedRatio).toBeLessThan(0.6);
      // Admission follows within a few intervals: a silent worker stops counting after 1.5
      // intervals of 1 s, then the next interval publishes (measured: 3.4 intervals of 500 ms).
      expect(figures.followedInIntervals).toBeLessThanOrEqual(6);
      // And settles at half: every published budget from then on within 0.3–0.65 of before
      // (measured 0.37–0.55 over runs; the rest is the queue correction draining the backlog the lost
      // workers left), its mean within 0.1 of how much the finished rate fell.
      for (const r of budgetRange) {
        expect(r).toBeGreaterThan(0.3);
        expect(r).toBeLessThan(0.65);
      }
      expect(Math.abs(figures.budgetRatio - figures.finishedRatio)).toBeLessThan(0.1);
      // What the gateway admitted matches what the workers finish, before and after.
      expect(admittedBefore / finishedBefore).toBeGreaterThan(0.8);
      expect(admittedBefore / finishedBefore).toBeLessThan(1.25);
      expect(admittedAfter / finishedAfter).toBeGreaterThan(0.8);
      expect(admittedAfter / finishedAfter).toBeLessThan(1.25);

      // Paid jobs: every one admitted completes, and completions never stop after the kill. The
      // traffic stops first: an offer counted as admitted whose publish was still in flight was
      // not yet among proJobs (CI once saw 32 admitted, 31 listed, all 31 completed).
      await load.stop();
      const deadline = Date.now() + 20_000;
      const records = async () => Promise.all(load.proJobs.map((j) => ctlInfra.jobs.get(j.id)));
      let recs = await records();
      while (recs.some((r) => r?.state !== 'completed') && Date.now() < deadline) {
        await sleep(500);
        recs = await records();
      }
      const proOffered = load.counters.offered[`${LANE}/pro`];
      const proAdmitted = load.counters.admitted[`${LANE}/pro`];
      const done = recs.filter((r) => r?.state === 'completed').map((r) => r!.finishedAt!);
      // The longest wait between paid completions, from just before the kill to the end of the
      // run (which counts as one, so completions that stop early fail too).
      const times = [...done.filter((t) => t >= killedAt - 3000 && t < end), end].sort((a, b) => a - b);
      const maxGapMs = Math.max(...times.slice(1).map((t, i) => t - times[i]));
      console.log(
        JSON.stringify({
          proOffered,
          proAdmitted,
          proCompleted: done.length,
          maxGapMs,
          fromKill: times.map((t) => t - killedAt),
        }),
      );
      expect(proAdmitted).toBe(proOffered);
      expect(done.length).toBe(proAdmitted);
      // Paid completions never paused beyond a rebalance and a re-run from the checkpoint of a job
      // the closed workers were running (measured 1.3–2.5 s alone, 2.1 s beside two busy
      // processes, and over 2 s once in CI); a wait on a lease (15 s) or on a dead member's
      // session (10 s) would be far longer.
      expect(maxGapMs).toBeLessThan(5000);
    } finally {
      sampling = false;
      await sampler;
      await load.stop();
      await controller.close();
      await Promise.all([...live].map((w) => w.close()));
      await pool.close();
      await Promise.all(infras.map((i) => i.close()));
    }
  }, 120_000);
});
