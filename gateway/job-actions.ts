import type { JobRecord } from '../common/contracts/index.ts';
import type { Infra } from '../common/infra.ts';

/**
 * Cancels a job for its client: the record becomes `cancelled` (exactly one finish wins) and a
 * terminal event wakes followers; the worker sees the state and drops or aborts the job.
 */
export async function cancelJob(infra: Infra, jobId: string, why: string): Promise<JobRecord | null> {
  const now = Date.now();
  const r = await infra.jobs.finish(
    jobId,
    null,
    'cancelled',
    { error: { code: 'cancelled', message: why } },
    now,
  );
  if (!r.ok) return r.record;
  await infra.events.append(jobId, {
    type: 'state',
    state: 'cancelled',
    pass: r.record.pass,
    passes: r.record.passes,
    at: now,
  });
  return r.record;
}
