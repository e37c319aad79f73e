import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_TOPIC, type JobMessage, jobTopic } from '../../common/contracts/index.ts';
import { gatedInfra } from '../../common/gated-infra.ts';
import type { Infra } from '../../common/infra.ts';
import { createMemoryInfra } from '../../common/memory-infra.ts';
import { StaticPolicySource } from '../../common/policy/policy-source.ts';
import { decodeCheckpoint } from '../../inference/checkpoint.ts';
import { jobsSkipped, slotBusySeconds, slotsBusy } from '../../inference/metrics.ts';
import type { ModelRunner, OnDecoded, PassRequest } from '../../inference/model-runner.ts';
import { OnnxModels } from '../../inference/onnx-models.ts';
import { InferenceWorker, type WorkerOptions } from '../../inference/worker.ts';
import { enqueue, jobMessage, testModels, testPolicy } from './fixtures.ts';
import { until } from '../support/until.ts';

let models: OnnxModels;
let categories: { text: string[]; visual: string[] };
let policy: StaticPolicySource;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  const bundle = await testModels();
  models = await OnnxModels.load(bundle);
  categories = { text: bundle.textCategories, visual: bundle.visualCategories };
  policy = new StaticPolicySource(await testPolicy());
});
afterAll(() => models.close());

function counting(inner: ModelRunner, delayMs = 0): ModelRunner & { decodes: number } {
  const wrapped = Object.assign(Object.create(inner) as ModelRunner, {
    decodes: 0,
    renderPass: async (pass: PassRequest, onDecoded: OnDecoded) => {
      wrapped.decodes++;
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      return inner.renderPass(pass, onDecoded);
    },
  });
  return wrapped;
}

function worker(infra: Infra, runner: ModelRunner, over: Partial<WorkerOptions> = {}) {
  return new InferenceWorker({
    infra,
    policy,
    log,
    workerId: over.workerId ?? 'w1',
    slots: 2,
    lanes: ['api'],
    models: runner,
    categories,
    ...over,
  });
}

async function publish(infra: Infra, message: JobMessage) {
  await infra.queue.publish(jobTopic(message.lane, message.tier), {
    key: message.id,
    value: Buffer.from(JSON.stringify(message)),
    headers: {},
  });
}

async function skipped(reason: string): Promise<number> {
  const m = await jobsSkipped.get();
  return m.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

/** A started worker and one job of `size`, enqueued and published to it. */
async function startWithJob(
  infra: Infra,
  runner: ModelRunner,
  size: JobMessage['params']['size'],
  over: Partial<WorkerOptions> = {},
) {
  const w = worker(infra, runner, over);
  await w.start();
  const m = jobMessage({ params: { size } });
  await enqueue(infra, m);
  await publish(infra, m);
  return { w, m };
}

/** How many `state` events in the job's log; null while there are none (for `until`). */
async function loggedEnds(infra: Infra, id: string, state: string): Promise<number | null> {
  const events = await infra.events.read(id, 0);
  return events.filter((e) => e.event.type === 'state' && e.event.state === state).length || null;
}

/** Infra as seen by a process that can die: after `die()` every call hangs and its consumers leave. */
function mortal(infra: Infra): { infra: Infra; die: () => Promise<void> } {
  let dead = false;
  const consumers: { close(): Promise<void> }[] = [];
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, p, r) {
        const v = Reflect.get(t, p, r);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => (dead ? new Promise(() => {}) : v.apply(t, args));
      },
    });
  const queue = wrap(infra.queue);
  const proxied: Infra = {
    ...infra,
    jobs: wrap(infra.jobs),
    events: wrap(infra.events),
    blobs: wrap(infra.blobs),
    queue: Object.assign(Object.create(queue), {
      consume: async (o: Parameters<Infra['queue']['consume']>[0]) => {
        const c = await infra.queue.consume(o);
        consumers.push(c);
        return c;
      },
    }),
  };
  return {
    infra: proxied,
    die: async () => {
      dead = true;
      await Promise.all(consumers.map((c) => c.close()));
    },
  };
}

/** Infra whose job store throws on `get` while `failing()` says so (a store outage outside a run). */
function flakyStore(infra: Infra, failing: () => boolean): Infra & { failures: number } {
  const out = { ...infra, failures: 0 } as Infra & { failures: number };
  out.jobs = Object.assign(Object.create(infra.jobs) as Infra['jobs'], {
    get: async (id: string) => {
      if (failing()) {
        out.failures++;
        throw new Error('store unavailable');
      }
      return infra.jobs.get(id);
    },
  });
  return out;
}

const lagOf = async (infra: Infra) =>
  (await infra.queue.lag('spillway-workers-api', [jobTopic('api', 'pro')]))[jobTopic('api', 'pro')];

describe('worker', () => {
  it('subscribes to the topics of a tier or lane ops add to the policy while it runs', async () => {
    const active = await testPolicy();
    const source = new StaticPolicySource(active);
    const infra = createMemoryInfra();
    const w = worker(infra, models, { policy: source, lanes: undefined });
    await w.start();
    expect(w.topics().api).not.toContain(jobTopic('api', 'team'));
    const edited = structuredClone(active);
    edited.policy.tiers.team = { ...edited.policy.tiers.pro, priority: 25 };
    edited.policy.lanes.batch = { ...edited.policy.lanes.api };
    source.set(edited);
    await until(async () => w.topics().batch?.includes(jobTopic('batch', 'team')));
    expect(w.topics().api).toContain(jobTopic('api', 'team'));
    // A job on the new tier of an old lane, and one on the new lane, both run.
    const onTier = jobMessage({ tier: 'team' });
    const onLane = jobMessage({ lane: 'batch' });
    for (const m of [onTier, onLane]) {
      await enqueue(infra, m);
      await publish(infra, m);
    }
    for (const m of [onTier, onLane])
      await until(async () => (await infra.jobs.get(m.id))?.state === 'completed');
    // Removing the lane again leaves its group.
    source.set(active);
    await until(async () => !('batch' in w.topics()));
    expect(w.topics().api).not.toContain(jobTopic('api', 'team'));
    await w.close();
  });

  it('keeps a job that was buffered when the subscription was replaced: redelivered and run once', async () => {
    const active = await testPolicy();
    const source = new StaticPolicySource(active);
    const infra = createMemoryInfra();
    const runner = counting(models, 30);
    const w = worker(infra, runner, { policy: source, slots: 1 });
    await w.start();
    const first = jobMessage({ params: { size: '512x512' } });
    const second = jobMessage();
    for (const m of [first, second]) {
      await enqueue(infra, m);
      await publish(infra, m);
    }
    await until(async () => runner.decodes >= 1);
    const edited = structuredClone(active);
    edited.policy.tiers.team = { ...edited.policy.tiers.pro, priority: 25 };
    source.set(edited);
    for (const m of [first, second])
      await until(async () => (await infra.jobs.get(m.id))?.state === 'completed');
    expect((await infra.jobs.get(first.id))?.claims).toBe(1);
    expect((await infra.jobs.get(second.id))?.claims).toBe(1);
    await until(async () => (await lagOf(infra)) === 0);
    await w.close();
  });

  it("gives its slot to the next job once a job's models are done, while that job stores its image", async () => {
    const infra = createMemoryInfra();
    const [first, second] = [jobMessage(), jobMessage()];
    let secondStarted = false;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
      setTimeout(r, 2000);
    });
    const seen: { startedBeforeFirstStored: boolean; slotsBusy: number }[] = [];
    const blobs = Object.assign(Object.create(infra.blobs) as Infra['blobs'], {
      put: async (key: string, data: Buffer, type: string) => {
        // The first job's final waits (up to 2 s) for the second job to reach the models.
        if (key.startsWith(`jobs/${first.id}/image-`)) {
          await gate;
          seen.push({ startedBeforeFirstStored: secondStarted, slotsBusy: w.stats.slotsBusy });
        }
        return infra.blobs.put(key, data, type);
      },
    });
    const runner = Object.assign(Object.create(models) as ModelRunner, {
      moderatePrompt: (tokens: number[]) => {
        if (w.stats.jobsStarted === 2) {
          secondStarted = true;
          release();
        }
        return models.moderatePrompt(tokens);
      },
    });
    const w = worker({ ...infra, blobs }, runner, { slots: 1 });
    await w.start();
    for (const m of [first, second]) {
      await enqueue(infra, m);
      await publish(infra, m);
    }
    for (const m of [first, second])
      await until(async () => (await infra.jobs.get(m.id))?.state === 'completed');
    // The second job's slot is the one counted: the finishing first job holds none.
    expect(seen).toEqual([{ startedBeforeFirstStored: true, slotsBusy: 1 }]);
    expect(w.stats.slotsBusy).toBe(0);
    await w.close();
  });

  it('takes its lease from the policy (workers.lease), so ops bound how long a crash delays a job', async () => {
    const active = await testPolicy();
    const source = new StaticPolicySource({
      ...active,
      policy: { ...active.policy, workers: { ...active.policy.workers, lease: 4321 } },
    });
    const infra = createMemoryInfra();
    const w = worker(infra, counting(models, 200), { policy: source });
    await w.start();
    const m = jobMessage({ params: { size: '256x256' } });
    await enqueue(infra, m);
    const before = Date.now();
    await publish(infra, m);
    const claimed = await until(async () => {
      const r = await infra.jobs.get(m.id);
      return r?.state === 'running' ? r : null;
    });
    const lease = claimed.leaseUntil - before;
    expect(lease).toBeGreaterThan(4321 - 500);
    expect(lease).toBeLessThan(4321 + 1000);
    await w.close();
  });

  it('announces the end of a job whose finish was applied but whose reply was lost (timeout)', async () => {
    const infra = createMemoryInfra();
    const realFinish = infra.jobs.finish.bind(infra.jobs);
    let lost = 0;
    infra.jobs.finish = async (...args: Parameters<typeof realFinish>) => {
      const r = await realFinish(...args);
      if (args[2] === 'completed' && lost++ === 0) throw new Error('Command timed out');
      return r;
    };
    const { w, m } = await startWithJob(infra, models, '256x256');
    const terminal = await until(() => loggedEnds(infra, m.id, 'completed'));
    expect(lost).toBe(1);
    expect(terminal).toBe(1);
    expect((await infra.jobs.get(m.id))?.state).toBe('completed');
    await w.close();
  });

  it("announces a completed job's end when its announcement failed after the lease guard let go", async () => {
    const infra = createMemoryInfra();
    const realAppend = infra.events.append.bind(infra.events);
    let appends = 0;
    infra.events.append = async (...args: Parameters<typeof realAppend>) => {
      const [, event] = args;
      if (event.type === 'state' && event.state === 'completed' && appends++ === 0) {
        // Long enough for a renewal to find the job finished and abort the run.
        await new Promise((r) => setTimeout(r, 300));
        throw new Error('Connection is closed');
      }
      return realAppend(...args);
    };
    const { w, m } = await startWithJob(infra, models, '256x256', { heartbeatMs: 20 });
    const terminal = await until(() => loggedEnds(infra, m.id, 'completed'));
    // The failed append, then the one that announced it.
    expect(appends).toBe(2);
    expect(terminal).toBe(1);
    await w.close();
  });

  it('announces the end of a running job finished elsewhere without its event (a lost cancel announcement)', async () => {
    const infra = createMemoryInfra();
    const runner = counting(models, 40);
    const { w, m } = await startWithJob(infra, runner, '512x512', { heartbeatMs: 20 });
    await until(async () => runner.decodes >= 1);
    await infra.jobs.finish(m.id, null, 'cancelled', {}, Date.now());
    const ends = await until(() => loggedEnds(infra, m.id, 'cancelled'));
    expect(ends).toBe(1);
    await w.close();
  });

  it('renews the lease with the current progress: the recorded pass never goes back', async () => {
    const infra = createMemoryInfra();
    const runner = counting(models, 40);
    const { w, m } = await startWithJob(infra, runner, '512x512', { heartbeatMs: 5 });
    const seen: number[] = [];
    await until(async () => {
      const r = await infra.jobs.get(m.id);
      if (r && seen.at(-1) !== r.pass) seen.push(r.pass);
      return r?.state === 'completed';
    });
    expect(seen.at(-1)).toBe(4);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    await w.close();
  });

  it('lets a job whose models are done finish on shutdown instead of handing it off', async () => {
    const infra = createMemoryInfra();
    const m = jobMessage({ params: { partialImages: 3 } });
    let open: () => void = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const blobs = Object.assign(Object.create(infra.blobs) as Infra['blobs'], {
      put: async (key: string, data: Buffer, type: string) => {
        // The last partial's store is held until shutdown has begun, after the models are done.
        if (key.endsWith('partial-2.png')) await gate;
        return infra.blobs.put(key, data, type);
      },
    });
    const w = worker({ ...infra, blobs }, models, { slots: 1 });
    await w.start();
    await enqueue(infra, m);
    await publish(infra, m);
    await until(async () => w.stats.jobsStarted === 1 && w.stats.slotsBusy === 0);
    const closing = w.close();
    open();
    await closing;
    const r = await infra.jobs.get(m.id);
    expect(r?.state).toBe('completed');
    expect(r?.partials).toHaveLength(3);
  });

  it('retries a delivery while the store fails transiently, then runs and acks it', async () => {
    const base = createMemoryInfra();
    let left = 3;
    const infra = flakyStore(base, () => left-- > 0);
    const w = worker(infra, models);
    await w.start();
    const m = jobMessage();
    await enqueue(base, m);
    await publish(base, m);
    await until(async () => (await base.jobs.get(m.id))?.state === 'completed');
    expect(infra.failures).toBe(3);
    await until(async () => (await lagOf(base)) === 0);
    await w.close();
  });

  it('releases a delivery the store keeps failing past the retry budget: re-published and acked', async () => {
    const base = createMemoryInfra();
    let down = true;
    const infra = flakyStore(base, () => down);
    const published: Record<string, string>[] = [];
    const queue = Object.assign(Object.create(base.queue) as Infra['queue'], {
      publish: async (topic: string, msg: Parameters<Infra['queue']['publish']>[1]) => {
        published.push(msg.headers);
        return base.queue.publish(topic, msg);
      },
    });
    const w = worker({ ...infra, queue }, models, { deliveryRetryMs: 150 });
    await w.start();
    const m = jobMessage();
    await enqueue(base, m);
    await publish(base, m);
    await until(async () => published.some((h) => h['x-spillway-released'] === '1'));
    // The original offset is committed; only the released copy is outstanding.
    expect(await lagOf(base)).toBe(1);
    down = false;
    await until(async () => (await base.jobs.get(m.id))?.state === 'completed');
    await until(async () => (await lagOf(base)) === 0);
    expect((await base.jobs.get(m.id))?.claims).toBe(1);
    await w.close();
  });

  it('completes a queued job and acks it', async () => {
    const infra = createMemoryInfra();
    const w = worker(infra, models);
    await w.start();
    const m = jobMessage();
    await enqueue(infra, m);
    await publish(infra, m);
    const done = await until(async () => {
      const r = await infra.jobs.get(m.id);
      return r?.state === 'completed' && r;
    });
    expect(done.result?.images).toHaveLength(1);
    await until(
      async () =>
        (await infra.queue.lag('spillway-workers-api', [jobTopic('api', 'pro')]))[jobTopic('api', 'pro')] ===
        0,
    );
    await w.close();
  });

  it('pauses a full topic and resumes it only once half its buffer is left, not after every job', async () => {
    const infra = createMemoryInfra();
    const calls: string[] = [];
    const consume = infra.queue.consume.bind(infra.queue);
    infra.queue.consume = async (o) => {
      const c = await consume(o);
      return {
        pause: (t) => {
          calls.push('pause');
          c.pause(t);
        },
        resume: (t) => {
          calls.push('resume');
          c.resume(t);
        },
        close: () => c.close(),
      };
    };
    const messages = Array.from({ length: 24 }, () => jobMessage({ params: { size: '256x256' } }));
    for (const m of messages) await enqueue(infra, m);
    for (const m of messages) await publish(infra, m);
    const w = worker(infra, models, { slots: 1, bufferPerTopic: 8 });
    await w.start();
    await until(async () => {
      const states = await Promise.all(messages.map((m) => infra.jobs.get(m.id)));
      return states.every((r) => r?.state === 'completed');
    }, 60_000);
    await w.close();
    // 24 jobs through a buffer of 8 refilled 4 at a time: a handful of resumes. Resuming whenever
    // the buffer dropped below 8 meant one resume (and one re-fetch) per job.
    const resumes = calls.filter((c) => c === 'resume').length;
    expect(resumes).toBeGreaterThan(0);
    expect(resumes).toBeLessThanOrEqual(5);
  }, 90_000);

  it('exports the slot time its jobs hold, a running job counted up to the scrape', async () => {
    const infra = createMemoryInfra();
    const slow = counting(models, 60);
    const w = worker(infra, slow, { workerId: 'w-busy' });
    await w.start();
    const busySeconds = async () =>
      (await slotBusySeconds.get()).values.find((v) => v.labels.worker === 'w-busy')?.value ?? 0;
    const m = jobMessage();
    await enqueue(infra, m);
    await publish(infra, m);
    await until(async () => slow.decodes >= 2);
    // Mid-job: the slot is still held, and its time so far is already exported.
    const during = await busySeconds();
    expect(during).toBeGreaterThan(0.05);
    await until(async () => (await infra.jobs.get(m.id))?.state === 'completed');
    const after = await busySeconds();
    expect(after).toBeGreaterThanOrEqual(during);
    // At least the decodes' own delay; a sampled gauge would have read 0 between scrapes.
    expect(after).toBeGreaterThan((slow.decodes * 60) / 1000);
    await w.close();
  });

  it('skips expired and cancelled jobs without running a model', async () => {
    const infra = createMemoryInfra();
    const runner = counting(models);
    const w = worker(infra, runner);
    await w.start();
    const [expiredBefore, cancelledBefore] = [await skipped('expired'), await skipped('cancelled')];
    const expired = jobMessage({ deadline: Date.now() - 1 });
    await enqueue(infra, expired);
    const cancelled = jobMessage();
    await enqueue(infra, cancelled);
    await infra.jobs.finish(cancelled.id, null, 'cancelled', {}, Date.now());
    await publish(infra, expired);
    await publish(infra, cancelled);
    await until(async () => (await infra.jobs.get(expired.id))?.state === 'expired');
    await until(async () => (await skipped('cancelled')) > cancelledBefore);
    expect(await skipped('expired')).toBe(expiredBefore + 1);
    expect(runner.decodes).toBe(0);
    await w.close();
  });

  it('stops a running job promptly when it is cancelled', async () => {
    const infra = createMemoryInfra();
    const runner = counting(models, 40);
    const { w, m } = await startWithJob(infra, runner, '512x512');
    await until(async () => runner.decodes >= 1);
    await infra.jobs.finish(m.id, null, 'cancelled', {}, Date.now());
    await infra.events.append(m.id, {
      type: 'state',
      state: 'cancelled',
      pass: 0,
      passes: 4,
      at: Date.now(),
    });
    await until(async () => w.stats.signal('w1', ['api']).jobsAborted === 1);
    expect(runner.decodes).toBeLessThan(4);
    expect((await infra.jobs.get(m.id))?.state).toBe('cancelled');
    await w.close();
  });

  it('resumes from the checkpoint on another worker after the first dies mid-job, finishing once', async () => {
    const infra = createMemoryInfra();
    const leaseMs = 300;
    const a = mortal(infra);
    const runnerA = counting(models, 30);
    const wa = worker(a.infra, runnerA, { workerId: 'wa', leaseMs });
    await wa.start();
    const m = jobMessage({ params: { size: '512x512', partialImages: 3 } });
    await enqueue(infra, m);
    await publish(infra, m);
    await until(async () => ((await infra.jobs.get(m.id))?.pass ?? 0) >= 2);
    await a.die();
    const checkpoint = decodeCheckpoint(await infra.jobs.loadCheckpoint(m.id));
    expect(checkpoint?.pass).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, leaseMs + 50));

    const runnerB = counting(models);
    const wb = worker(infra, runnerB, { workerId: 'wb', leaseMs });
    await wb.start();
    const done = await until(async () => {
      const r = await infra.jobs.get(m.id);
      return r?.state === 'completed' && r;
    });
    expect(done.claims).toBe(2);
    expect(runnerB.decodes).toBe(4 - checkpoint!.pass);
    expect(new Set(done.partials).size).toBe(3);
    expect(done.partials).toHaveLength(3);
    const events = await infra.events.read(m.id, 0);
    expect(events.filter((e) => e.event.type === 'partial')).toHaveLength(3);
    expect(events.filter((e) => e.event.type === 'state' && e.event.state === 'completed')).toHaveLength(1);
    await wb.close();
  });

  it('crash(): abandons a running job with its lease, writes nothing more, and a new worker takes it over', async () => {
    const infra = createMemoryInfra();
    const leaseMs = 400;
    let severed = false;
    const gone = () => (severed ? Promise.reject(new Error('killed')) : undefined);
    const cut = gatedInfra(infra, { jobs: gone, events: gone, coord: gone, blobs: gone, queue: gone });
    const runnerA = counting(models, 30);
    const wa = worker(cut, runnerA, { workerId: 'w-crash', leaseMs });
    await wa.start();
    const m = jobMessage({ params: { size: '512x512' } });
    await enqueue(infra, m);
    await publish(infra, m);
    await until(async () => ((await infra.jobs.get(m.id))?.pass ?? 0) >= 1);
    severed = true;
    const crashedAt = Date.now();
    await wa.crash();
    // No hand-off: the lease still runs (close() would have ended it), so no one may claim yet.
    const left = (await infra.jobs.get(m.id))!;
    expect(left).toMatchObject({ state: 'running', owner: 'w-crash', claims: 1 });
    expect(left.leaseUntil).toBeGreaterThan(crashedAt);
    const busy = async () =>
      (await slotsBusy.get()).values.find((v) => v.labels.worker === 'w-crash')?.value ?? -1;
    await until(async () => (await busy()) === 0);
    await new Promise((r) => setTimeout(r, Math.max(0, left.leaseUntil - Date.now()) + 50));
    expect(await infra.jobs.get(m.id)).toMatchObject({ updatedAt: left.updatedAt, pass: left.pass });

    // Its unacked delivery went back to the group: a new member runs it from the checkpoint.
    const wb = worker(infra, models, { workerId: 'w-after', leaseMs });
    await wb.start();
    const done = await until(async () => {
      const r = await infra.jobs.get(m.id);
      return r?.state === 'completed' && r;
    });
    expect(done.claims).toBe(2);
    await wb.close();
  });

  it('dead-letters a job whose pipeline fails three times and ends it failed', async () => {
    const infra = createMemoryInfra();
    const broken = Object.assign(Object.create(models) as ModelRunner, {
      renderPass: async () => {
        throw new Error('decoder exploded');
      },
    });
    const dlq: string[] = [];
    await infra.queue.consume({
      groupId: 'test-dlq',
      topics: [DEAD_LETTER_TOPIC],
      onMessage: (d) => {
        dlq.push(d.value.toString());
        d.ack();
      },
    });
    const w = worker(infra, broken);
    await w.start();
    const m = jobMessage();
    await enqueue(infra, m);
    await publish(infra, m);
    const r = await until(async () => {
      const rec = await infra.jobs.get(m.id);
      return rec?.state === 'failed' && rec;
    });
    expect(r.error?.code).toBe('job_failed');
    await until(async () => dlq.length === 1);
    expect(JSON.parse(dlq[0]).error.message).toContain('decoder exploded');
    await w.close();
  });

  it('hands running jobs back on shutdown: the next worker claims at once', async () => {
    const infra = createMemoryInfra();
    const runner = counting(models, 30);
    const w1 = worker(infra, runner, { workerId: 'w1', leaseMs: 60_000 });
    await w1.start();
    const m = jobMessage({ params: { size: '512x512' } });
    await enqueue(infra, m);
    await publish(infra, m);
    await until(async () => ((await infra.jobs.get(m.id))?.pass ?? 0) >= 1);
    await w1.close();
    const w2 = worker(infra, models, { workerId: 'w2', leaseMs: 60_000 });
    await w2.start();
    const r = await until(async () => {
      const rec = await infra.jobs.get(m.id);
      return rec?.state === 'completed' && rec;
    });
    expect(r.claims).toBe(2);
    await w2.close();
  });
});
