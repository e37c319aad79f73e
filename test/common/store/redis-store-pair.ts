import { afterAll } from 'vitest';
import { RedisEventLog } from '../../../common/store/redis-event-log.ts';
import { RedisJobStore } from '../../../common/store/redis-job-store.ts';
import type { redisFixture } from '../redis-fixture.ts';

/**
 * Empty Redis job store + event log pairs under a fresh prefix, for suites that hold both to one
 * contract: on one client (the atomic scripts run) or the event log on another (two calls).
 * Closes the event logs after the suite.
 */
export function redisStorePairs(redis: ReturnType<typeof redisFixture>) {
  const logs: RedisEventLog[] = [];
  afterAll(() => {
    for (const l of logs) l.close();
  });
  return async (separateClients: boolean) => {
    const prefix = redis.prefix();
    const client = await redis.client();
    const events = new RedisEventLog(
      separateClients ? await redis.newClient() : client,
      await redis.newClient({ subscriber: true }),
      { prefix },
    );
    logs.push(events);
    return { jobs: new RedisJobStore(client, { prefix }), events };
  };
}
