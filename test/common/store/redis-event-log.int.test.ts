import { afterAll, describe, expect, it } from 'vitest';
import { RedisEventLog } from '../../../common/store/redis-event-log.ts';
import { redisFixture } from '../redis-fixture.ts';
import { eventLogConformance } from './event-log-conformance.ts';
import { realTime } from './expiring.ts';
import { jobId } from './job-fixtures.ts';

describe('RedisEventLog', () => {
  const redis = redisFixture();
  const logs: RedisEventLog[] = [];
  afterAll(() => {
    for (const l of logs) l.close();
  });
  const makeLog = async (retentionMs?: number) => {
    const log = new RedisEventLog(await redis.client(), await redis.newClient({ subscriber: true }), {
      prefix: redis.prefix(),
      retentionMs,
    });
    logs.push(log);
    return log;
  };
  eventLogConformance(
    () => makeLog(),
    async (retentionMs) => ({ store: await makeLog(retentionMs), elapse: realTime }),
  );

  it('wakes watchers without any notification through the periodic fallback', async () => {
    // A subscriber that never hears anything: only the fallback can wake the watcher.
    const deaf = await redis.newClient({ subscriber: true });
    const log = new RedisEventLog(await redis.client(), deaf, {
      prefix: redis.prefix(),
      fallbackWakeMs: 100,
    });
    logs.push(log);
    deaf.removeAllListeners('message');
    let wakes = 0;
    const stop = log.watch(jobId(), () => wakes++);
    await new Promise((r) => setTimeout(r, 350));
    stop();
    expect(wakes).toBeGreaterThanOrEqual(2);
  });

  it('shares one subscriber connection between the watchers of many jobs', async () => {
    const subscriber = await redis.newClient({ subscriber: true });
    const writer = await redis.client();
    const prefix = redis.prefix();
    const log = new RedisEventLog(writer, subscriber, { prefix });
    logs.push(log);
    const ids = Array.from({ length: 5 }, () => jobId());
    const woke = ids.map((id) => new Promise<void>((resolve) => log.watch(id, resolve)));
    await new Promise((r) => setTimeout(r, 50));
    const channels = (await writer.call('PUBSUB', 'CHANNELS', `${prefix}wake:*`)) as string[];
    expect(channels.sort()).toEqual(ids.map((id) => `${prefix}wake:${id}`).sort());
    await Promise.all(
      ids.map((id) => log.append(id, { type: 'state', state: 'queued', pass: 0, passes: 1, at: 1 })),
    );
    await Promise.all(woke);
  });
});
