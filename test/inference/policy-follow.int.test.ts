import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../common/config.ts';
import { jobTopic } from '../../common/contracts/index.ts';
import { createDistributedInfra } from '../../common/distributed-infra.ts';
import type { Infra } from '../../common/infra.ts';
import { StaticPolicySource } from '../../common/policy/policy-source.ts';
import { OnnxModels } from '../../inference/onnx-models.ts';
import { InferenceWorker } from '../../inference/worker.ts';
import { enqueue, jobMessage, testModels, testPolicy } from './fixtures.ts';
import { until } from '../support/until.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'spillway-follow-'));
const lane = `fol${Date.now().toString(36)}`;
let infra: Infra;
let models: OnnxModels;

beforeAll(async () => {
  const bundle = await testModels();
  models = await OnnxModels.load(bundle);
  const config = loadConfig({
    ...process.env,
    SPILLWAY_MODE: 'distributed',
    SPILLWAY_REDIS_URL: inject('redis').url,
    SPILLWAY_KAFKA_BROKERS: inject('kafka').brokers,
    SPILLWAY_KAFKA_PARTITIONS: '1',
    SPILLWAY_DATA_DIR: dataDir,
  });
  infra = await createDistributedInfra(config, pino({ level: 'silent' }), { clientId: 'follow-test' });
});

afterAll(async () => {
  await infra?.close();
  await models?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('inference over Kafka follows the policy', () => {
  it('consumes the topic of a tier added while it runs, and still the old ones', async () => {
    const active = await testPolicy();
    const source = new StaticPolicySource(active);
    const bundle = await testModels();
    const worker = new InferenceWorker({
      infra,
      policy: source,
      log: pino({ level: 'silent' }),
      workerId: 'follow-w1',
      slots: 1,
      lanes: [lane],
      models,
      categories: { text: bundle.textCategories, visual: bundle.visualCategories },
    });
    await worker.start();
    const edited = structuredClone(active);
    edited.policy.tiers.team = { ...edited.policy.tiers.pro, priority: 25 };
    source.set(edited);
    await until(async () => worker.topics()[lane]?.includes(jobTopic(lane, 'team')), 30_000);
    const onNew = jobMessage({ lane, tier: 'team' });
    const onOld = jobMessage({ lane, tier: 'pro' });
    for (const m of [onNew, onOld]) {
      await enqueue(infra, m);
      await infra.queue.publish(jobTopic(lane, m.tier), {
        key: m.id,
        value: Buffer.from(JSON.stringify(m)),
        headers: {},
      });
    }
    for (const m of [onNew, onOld]) {
      const done = await until(async () => {
        const r = await infra.jobs.get(m.id);
        return r?.state === 'completed' && r;
      }, 60_000);
      expect(done.claims).toBe(1);
    }
    await worker.close();
  }, 120_000);
});
