import { randomBytes } from 'node:crypto';
import { type JobMessage, type JobRecord, newJobRecord } from '../../../common/contracts/index.ts';

export const T0 = 1_750_000_000_000;

export function jobId(): string {
  return `job_${randomBytes(12).toString('hex')}`;
}

/** A queued record created at `now`, due `deadlineIn` ms later. */
export function queuedRecord(now = T0, deadlineIn = 60_000, id = jobId()): JobRecord {
  const message: JobMessage = {
    v: 1,
    id,
    account: 'acct_test',
    tier: 'free',
    lane: 'chat',
    operation: 'generate',
    cost: 1,
    prompt: 'a lighthouse at dusk, "quoted" and ünïcode',
    params: {} as JobMessage['params'],
    inputImages: [],
    deadline: now + deadlineIn,
    attempt: 0,
    trace: {} as JobMessage['trace'],
    brownout: null,
    createdAt: now,
  };
  return newJobRecord(message, 7, 4, now);
}
