import { isTerminal } from '../common/contracts/index.ts';
import type { EventLog } from '../common/store/event-log.ts';
import type { JobStore } from '../common/store/job-store.ts';

export interface JobGuardOptions {
  jobs: JobStore;
  events: EventLog;
  leaseMs: number;
  /** How often the lease is renewed; a third of the lease leaves two chances before it lapses. */
  heartbeatMs?: number;
  now?: () => number;
}

/**
 * Keeps a running job's lease alive while a long pass runs, and aborts the run as soon as the
 * job is no longer ours: a renewal refused (fenced, terminal), or an event showing it ended
 * (cancelled by the client, expired by the reaper). Returns the stop function.
 */
export function guardJob(
  options: JobGuardOptions,
  id: string,
  fence: number,
  progress: () => { pass: number; passes: number },
  abort: AbortController,
): () => void {
  const now = options.now ?? Date.now;
  const lost = (reason: string) => {
    if (!abort.signal.aborted) abort.abort(reason);
  };
  const renew = () => {
    const { pass, passes } = progress();
    const t = now();
    options.jobs
      .progress(id, fence, pass, passes, t + options.leaseMs, t)
      .then((r) => {
        if (!r.ok) lost(r.code);
      })
      .catch(() => undefined); // A store hiccup is retried on the next beat; the lease has slack.
  };
  const timer = setInterval(renew, options.heartbeatMs ?? Math.max(50, Math.floor(options.leaseMs / 3)));
  timer.unref();
  const unwatch = options.events.watch(id, () => {
    options.jobs
      .get(id)
      .then((r) => {
        if (!r || isTerminal(r.state) || r.fence !== fence) lost(r ? r.state : 'not_found');
      })
      .catch(() => undefined);
  });
  return () => {
    clearInterval(timer);
    unwatch();
  };
}
