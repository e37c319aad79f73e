import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../common/config.ts';
import { jobTopic } from '../../common/contracts/index.ts';
import { createDistributedInfra } from '../../common/distributed-infra.ts';
import type { Infra } from '../../common/infra.ts';
import { createLogger } from '../../common/log.ts';
import { enqueue, jobMessage, testModels } from './fixtures.ts';
import { until } from '../support/until.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'spillway-inference-'));
const lane = `res${Date.now().toString(36)}`;
const children: ChildProcess[] = [];
let infra: Infra;

function env(workerId: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    SPILLWAY_MODE: 'distributed',
    SPILLWAY_REDIS_URL: inject('redis').url,
    SPILLWAY_KAFKA_BROKERS: inject('kafka').brokers,
    SPILLWAY_KAFKA_PARTITIONS: '1',
    SPILLWAY_DATA_DIR: dataDir,
    SPILLWAY_WORKER_ID: workerId,
    SPILLWAY_LANES: lane,
    TEST_LEASE_MS: '1500',
  };
}

/** Starts a worker process and resolves once it consumes. */
function startWorker(workerId: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/inference/support/inference-worker-main.ts'],
    {
      env: env(workerId),
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`worker ${workerId} exited with ${code}`)));
  });
}

beforeAll(async () => {
  await testModels();
  const config = loadConfig(env('test'));
  infra = await createDistributedInfra(config, createLogger('test', 'silent'), { clientId: 'resume-test' });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await infra?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('inference over Kafka and Redis', () => {
  it('resumes a job from its checkpoint after its worker is SIGKILLed, with one completed result', async () => {
    const m = jobMessage({ lane, tier: 'pro', params: { size: '1024x1024', n: 3, partialImages: 3 } });
    await enqueue(infra, m);
    await infra.queue.ensureTopics([jobTopic(lane, 'pro')]);
    const a = await startWorker('worker-a');
    await infra.queue.publish(jobTopic(lane, 'pro'), {
      key: m.id,
      value: Buffer.from(JSON.stringify(m)),
      headers: {},
    });
    await until(async () => ((await infra.jobs.get(m.id))?.pass ?? 0) >= 2, 30_000);
    a.kill('SIGKILL');
    const atDeath = (await infra.jobs.get(m.id))!;
    expect(atDeath.state).toBe('running');
    expect(await infra.jobs.loadCheckpoint(m.id)).not.toBeNull();

    const b = await startWorker('worker-b');
    const done = await until(async () => {
      const r = await infra.jobs.get(m.id);
      return r?.state === 'completed' && r;
    }, 50_000);
    expect(done.claims).toBe(2);
    expect(done.result?.images).toHaveLength(3);
    expect(done.partials).toHaveLength(3);
    // The record is the truth; its terminal event is the next write and may trail it a moment.
    const events = await until(async () => {
      const all = (await infra.events.read(m.id, 0)).map((e) => e.event);
      return all.some((e) => e.type === 'state' && e.state === 'completed') && all;
    }, 10_000);
    expect(events.filter((e) => e.type === 'partial')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'state' && e.state === 'completed')).toHaveLength(1);
    // Resumed, not restarted: pass 1 was recorded once; at most the pass in flight at the kill repeats.
    const passes = events.flatMap((e) => (e.type === 'state' && e.state === 'running' ? [e.pass] : []));
    expect(passes.filter((p) => p === 1)).toHaveLength(1);
    expect(passes.length).toBeLessThanOrEqual(done.passes + 1);
    b.kill('SIGTERM');
    await new Promise((r) => b.once('exit', r));
  }, 120_000);
});
