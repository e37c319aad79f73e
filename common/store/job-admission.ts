import type { JobRecord, ProgressEvent } from '../contracts/index.ts';
import type { EventLog } from './event-log.ts';
import type { IdempotencyScope, JobStore } from './job-store.ts';
import { oneRedis } from './one-redis.ts';

/**
 * Stores an admitted job: issues its queue ticket for its lane × tier, creates the record with it
 * (idempotent, as JobStore.create) and, for a new job only, appends `event` (its `queued` state).
 * When both stores live on one Redis this is a single atomic script (RedisJobStore.admit), the
 * gateway's one store round trip per job; otherwise three calls in that order (the ticket is then
 * issued even for a repeat, as nextTicket + create always did).
 */
export async function admitJob(
  jobs: JobStore,
  events: EventLog,
  record: JobRecord,
  idempotency: IdempotencyScope | undefined,
  event: ProgressEvent,
): Promise<{ created: boolean; record: JobRecord }> {
  const redis = oneRedis(jobs, events);
  if (redis) return redis.jobs.admit(record, idempotency, redis.events.appendSpec(record.id, event));
  const ticket = await jobs.nextTicket(record.lane, record.tier);
  const out = await jobs.create({ ...record, ticket }, idempotency);
  if (out.created) await events.append(record.id, event);
  return out;
}
