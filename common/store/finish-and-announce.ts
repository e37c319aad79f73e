import { isTerminal, type JobRecord, type TerminalState } from '../contracts/index.ts';
import type { EventLog } from './event-log.ts';
import type { FinishPatch, JobStore, UpdateResult } from './job-store.ts';

/**
 * Makes sure a terminal record's event log carries its terminal state event. Finishing a job and
 * appending that event are two writes: a finish whose reply was lost (a client-side timeout after
 * Redis applied it) must still be announced, or followers of the event log never see the end.
 * Idempotent: appends only when no terminal state event is logged yet.
 */
export async function announceTerminal(events: EventLog, record: JobRecord): Promise<boolean> {
  if (!isTerminal(record.state)) return false;
  const logged = await events.read(record.id, 0);
  if (logged.some((e) => e.event.type === 'state' && isTerminal(e.event.state))) return false;
  await events.append(record.id, {
    type: 'state',
    state: record.state,
    pass: record.pass,
    passes: record.passes,
    at: record.finishedAt ?? record.updatedAt,
  });
  return true;
}

/**
 * Finishes a job and announces it in its event log. When the finish's reply is lost (the store
 * may have applied it), the record says what happened: a record now in `to` counts as finished
 * here (same outcome), another terminal state as `terminal`; anything else rethrows.
 */
export async function finishAndAnnounce(
  stores: { jobs: JobStore; events: EventLog },
  id: string,
  fence: number | null,
  to: TerminalState,
  patch: FinishPatch,
  now: number,
): Promise<UpdateResult> {
  let result: UpdateResult;
  try {
    result = await stores.jobs.finish(id, fence, to, patch, now);
  } catch (err) {
    const record = await stores.jobs.get(id).catch(() => null);
    if (!record || !isTerminal(record.state)) throw err;
    result = record.state === to ? { ok: true, record } : { ok: false, code: 'terminal', record };
  }
  if (result.ok) await announceTerminal(stores.events, result.record);
  return result;
}
