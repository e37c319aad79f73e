import type { EventLog } from './event-log.ts';
import type { JobStore } from './job-store.ts';
import { RedisEventLog } from './redis-event-log.ts';
import { RedisJobStore } from './redis-job-store.ts';

/**
 * The pair as Redis stores on one client, or null. Only then can a job write and its event append
 * be one atomic script; on separate clients (or in memory) they stay two calls.
 */
export function oneRedis(
  jobs: JobStore,
  events: EventLog,
): { jobs: RedisJobStore; events: RedisEventLog } | null {
  if (jobs instanceof RedisJobStore && events instanceof RedisEventLog && jobs.redis === events.redis)
    return { jobs, events };
  return null;
}
