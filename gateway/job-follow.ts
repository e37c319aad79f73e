import { isTerminal, type SequencedEvent } from '../common/contracts/index.ts';
import type { EventLog } from '../common/store/event-log.ts';
import type { JobStore } from '../common/store/job-store.ts';

export const FOLLOW_POLL_MS = 2000;

/**
 * Follows a job's event log from `after` until a terminal state or `signal` aborts. Wake-ups only
 * prompt a re-read, so a lost one costs at most one poll interval; the poll also re-reads the
 * record, so a terminal state written without its event is still seen.
 * Returns 'terminal' or 'aborted'.
 */
export async function followJob(
  deps: { events: EventLog; jobs: JobStore },
  jobId: string,
  after: number,
  onEvent: (e: SequencedEvent) => void | Promise<void>,
  signal: AbortSignal,
  pollMs = FOLLOW_POLL_MS,
): Promise<'terminal' | 'aborted'> {
  let seq = after;
  let woken = false;
  let wake: (() => void) | null = null;
  const stopWatch = deps.events.watch(jobId, () => {
    woken = true;
    wake?.();
  });
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);
  try {
    for (;;) {
      if (signal.aborted) return 'aborted';
      woken = false;
      for (const e of await deps.events.read(jobId, seq)) {
        seq = e.seq;
        await onEvent(e);
        if (e.event.type === 'state' && isTerminal(e.event.state)) return 'terminal';
      }
      if (signal.aborted) return 'aborted';
      if (!woken) {
        const timedOut = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve(false);
          };
        });
        wake = null;
        if (timedOut) {
          const record = await deps.jobs.get(jobId);
          if (!record || isTerminal(record.state)) {
            // Drain what the log has, then stop: the record is the truth.
            for (const e of await deps.events.read(jobId, seq)) {
              seq = e.seq;
              await onEvent(e);
            }
            return 'terminal';
          }
        }
      }
    }
  } finally {
    stopWatch();
    signal.removeEventListener('abort', onAbort);
  }
}
