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
import { startInference } from '../../inference/service.ts';
import { enqueue, jobMessage, testModels } from '../inference/fixtures.ts';
import { testPolicy } from './scenario.ts';

const log = createLogger('controller-real', 'silent');
const dataDir = mkdtempSync(join(tmpdir(), 'spillway-ctl-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const connect = (clientId: string) =>
  createDistributedInfra(
    loadConfig({
      SPILLWAY_MODE: 'distributed',
      SPILLWAY_REDIS_URL: inject('redis').url,
      SPILLWAY_KAFKA_BROKERS: inject('kafka').brokers,
      SPILLWAY_KAFKA_PARTITIONS: '2',
      SPILLWAY_DATA_DIR: dataDir,
    }),
    log,
    { clientId },
  );

/**
 * A stand-in gateway for one lane × tier: offers far more than the workers can do, admits what
 * the published state's global token bucket allows, enqueues like the gateway, reports counters.
 */
function flood(infra: Infra, offeredPerSec: number) {
  const counters = { offered: 0, admitted: 0, shed: 0 };
  let stopped = false;
  const loop = async () => {
    let lastReport = 0;
    while (!stopped) {
      const now = Date.now();
      const state = await infra.coord.readAdmission();
      const a = state && isFresh(state, now) ? state.lanes.chat?.free : null;
      for (let i = 0; i < offeredPerSec / 10; i++) {
        counters.offered++;
        const ok =
          a &&
          a.mode !== 'shed' &&
          (a.rate === null || (await infra.coord.takeTokens('chat/free', 1, a.rate, a.burst, now)).ok);
        if (!ok) {
          counters.shed++;
          continue;
        }
        counters.admitted++;
        const m = jobMessage({
          lane: 'chat',
          tier: 'free',
          params: { size: '256x256' },
          deadline: now + 120_000,
        });
        await enqueue(infra, m, 2);
        await infra.queue.publish(jobTopic('chat', 'free'), {
          key: m.id,
          value: Buffer.from(JSON.stringify(m)),
          headers: {},
        });
      }
      if (now - lastReport >= 1000) {
        lastReport = now;
        const signal: GatewaySignal = {
          source: 'gateway',
          id: 'flood',
          at: now,
          authLatencyMs: 1,
          authErrorRate: 0,
          authCacheHitRate: 1,
          storeLatencyMs: 1,
          offered: { 'chat/free': counters.offered },
          admitted: { 'chat/free': counters.admitted },
          shed: { 'chat/free': counters.shed },
          signups: 0,
        };
        await infra.coord.reportSignal(signal, 5000);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const done = loop();
  return {
    stop: async () => {
      stopped = true;
      await done;
    },
  };
}

describe('over real Kafka and Redis with inference workers', () => {
  it('admission follows what the workers finish when half of them go', async () => {
    await testModels();
    const active = testPolicy('gradient', { control: { law: 'gradient', interval: '500ms' } });
    const policy = new StaticPolicySource(active);
    const infras = await Promise.all(['ctl', 'load', 'w1', 'w2'].map(connect));
    const [ctlInfra, loadInfra, w1Infra, w2Infra] = infras;
    await ctlInfra.queue.ensureTopics([jobTopic('chat', 'free')]);
    const worker = (infra: Infra, id: string) =>
      startInference({ infra, policy, log, workerId: id, slots: 1, lanes: ['chat'], modelThreads: 1 });
    const workers = [await worker(w1Infra, 'w1'), await worker(w2Infra, 'w2')];
    const controller = await startController({ infra: ctlInfra, policy, log, id: 'ctl' });
    const load = flood(loadInfra, 200);
    const freeRate = async () => (await ctlInfra.coord.readAdmission())?.lanes.chat.free.rate ?? null;
    const finished = async () =>
      (await ctlInfra.coord.readSignals()).reduce(
        (a, x) => a + (x.source === 'worker' ? x.costFinished : 0),
        0,
      );
    /** Runs a phase; returns what the workers really finished (cost/s) and the controller's mean rate, over its last 10 s. */
    const phase = async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms - 10_000));
      const c0 = await finished();
      const t0 = Date.now();
      const rates: number[] = [];
      while (Date.now() - t0 < 10_000) {
        await new Promise((r) => setTimeout(r, 500));
        rates.push((await ctlInfra.coord.readAdmission())?.lanes.chat.free.rate ?? 0);
      }
      const throughput = (((await finished()) - c0) * 1000) / (Date.now() - t0);
      return { throughput, rate: rates.reduce((a, b) => a + b, 0) / rates.length };
    };
    try {
      const full = await phase(25_000);
      // Both workers really served before one of them goes.
      const signals = await ctlInfra.coord.readSignals();
      const w2Done = signals.reduce(
        (a, x) => a + (x.source === 'worker' && x.id === 'w2' ? x.costFinished : 0),
        0,
      );
      await workers[1].close();
      const half = await phase(20_000);
      expect(full.throughput).toBeGreaterThan(0);
      expect(w2Done).toBeGreaterThan(0);
      // Admission follows what the workers really finish: the admitted rate moves with the
      // measured throughput (on a shared 2-core machine one worker alone may run faster than half).
      expect(full.rate / full.throughput).toBeGreaterThan(0.5);
      expect(full.rate / full.throughput).toBeLessThan(2);
      expect(half.rate / half.throughput).toBeGreaterThan(0.5);
      expect(half.rate / half.throughput).toBeLessThan(2);
    } finally {
      await load.stop();
      await controller.close();
      await workers[0].close();
      await Promise.all(infras.map((i) => i.close()));
    }
  }, 150_000);
});
