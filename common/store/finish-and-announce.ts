import { isTerminal, type JobRecord, type TerminalState } from '../contracts/index.ts';
import type { EventLog } from './event-log.ts';
import type { FinishPatch, JobStore, TerminalPass, UpdateResult } from './job-store.ts';
import { oneRedis } from './one-redis.ts';

/**
 * Makes sure a terminal record's event log carries its terminal state event. Idempotent: appends
 * only when no terminal state event is logged yet. For a finish written as two calls (memory
 * stores, or Redis stores on separate clients), where a failure between them must not leave
 * followers of the event log waiting for an end they never see.
 */
export async function announceTerminal(
  events: EventLog,
  record: JobRecord,
  at: TerminalPass = record,
): Promise<boolean> {
  if (!isTerminal(record.state)) return false;
  const logged = await events.read(record.id, 0);
  if (logged.some((e) => e.event.type === 'state' && isTerminal(e.event.state))) return false;
  await events.append(record.id, {
    type: 'state',
    state: record.state,
    pass: at.pass,
    passes: at.passes,
    at: record.finishedAt ?? record.updatedAt,
  });
  return true;
}

/**
 * Finishes a job and announces it in its event log: one atomic script when both stores live on
 * one Redis, else the finish then announceTerminal. `at` is the pass the event reports (default:
 * the record's). When the finish's reply is lost (the store may have applied it), the record says
 * what happened: a record now in `to` counts as finished here (same outcome), another terminal
 * state as `terminal`; anything else rethrows.
 */
export async function finishAndAnnounce(
  stores: { jobs: JobStore; events: EventLog },
  id: string,
  fence: number | null,
  to: TerminalState,
  patch: FinishPatch,
  now: number,
  at?: TerminalPass,
): Promise<UpdateResult> {
  const redis = oneRedis(stores.jobs, stores.events);
  let result: UpdateResult;
  try {
    result = redis
      ? await redis.jobs.finishAnnounced(id, fence, to, patch, now, redis.events.streamSpec(id), at)
      : await stores.jobs.finish(id, fence, to, patch, now);
  } catch (err) {
    const record = await stores.jobs.get(id).catch(() => null);
    if (!record || !isTerminal(record.state)) throw err;
    result = record.state === to ? { ok: true, record } : { ok: false, code: 'terminal', record };
    // Finished by this write or by another one: announce unless an end is logged already.
    if (result.ok) await announceTerminal(stores.events, result.record, at);
    return result;
  }
  if (result.ok && !redis) await announceTerminal(stores.events, result.record, at);
  return result;
}
