import type { JobRecord } from '../common/contracts/index.ts';
import type { Infra } from '../common/infra.ts';
import { finishAndAnnounce } from '../common/store/finish-and-announce.ts';

/**
 * Cancels a job for its client: the record becomes `cancelled` (exactly one finish wins) and a
 * terminal event wakes followers; the worker sees the state and drops or aborts the job.
 */
export async function cancelJob(infra: Infra, jobId: string, why: string): Promise<JobRecord | null> {
  const r = await finishAndAnnounce(
    infra,
    jobId,
    null,
    'cancelled',
    { error: { code: 'cancelled', message: why } },
    Date.now(),
  );
  return r.record;
}
