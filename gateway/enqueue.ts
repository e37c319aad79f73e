import {
  type Account,
  type Brownout,
  JOB_MESSAGE_VERSION,
  type JobMessage,
  type JobRecord,
  jobTopic,
  newJobRecord,
  type TraceContext,
} from '../common/contracts/index.ts';
import type { Infra } from '../common/infra.ts';
import { finishAndAnnounce } from '../common/store/finish-and-announce.ts';
import { admitJob } from '../common/store/job-admission.ts';
import type { Policy } from '../common/policy/schema.ts';
import { ApiError } from './api-error.ts';
import { randomAlphanumeric } from './api-keys.ts';
import type { UploadedImage } from './edit-form.ts';
import type { ResolvedImageRequest } from './image-request.ts';
import { jitteredHintMs, retryHeaders } from './retry-hints.ts';

export interface EnqueueRequest {
  account: Account;
  resolved: ResolvedImageRequest;
  brownout: Brownout | null;
  trace: TraceContext;
  idempotencyKey: string | null;
  images: UploadedImage[];
  mask: UploadedImage | null;
}

export function newJobId(): string {
  return `job_${randomAlphanumeric(24)}`;
}

/**
 * Makes an admitted request a durable job: its ticket, record (idempotent per account and key)
 * and `queued` event in one store step (admitJob), then the Kafka message. A repeated idempotency key returns the first
 * job and publishes nothing, so a retried request never costs a second GPU run. If the publish
 * fails the record is failed at once, so the client is never handed a job nobody will run.
 */
export async function enqueueJob(
  infra: Infra,
  policy: Policy,
  req: EnqueueRequest,
  now: number,
): Promise<{ record: JobRecord; created: boolean }> {
  const { account, resolved } = req;
  const id = newJobId();
  const inputImages = req.images.map((_, i) => `inputs/${id}/${i}`);
  const mask = req.mask ? `inputs/${id}/mask` : undefined;
  await Promise.all([
    ...req.images.map((img, i) => infra.blobs.put(inputImages[i], img.data, img.contentType)),
    ...(req.mask && mask ? [infra.blobs.put(mask, req.mask.data, req.mask.contentType)] : []),
  ]);
  const message: JobMessage = {
    v: JOB_MESSAGE_VERSION,
    id,
    account: account.id,
    tier: account.tier,
    lane: account.lane,
    operation: resolved.operation,
    cost: resolved.cost,
    prompt: resolved.prompt,
    params: resolved.params,
    inputImages,
    mask,
    deadline: now + policy.tiers[account.tier].maxWait,
    attempt: 0,
    trace: {
      traceparent: req.trace.traceparent,
      ...(req.trace.tracestate ? { tracestate: req.trace.tracestate } : {}),
    },
    brownout: req.brownout,
    createdAt: now,
  };
  const passes = Math.min(resolved.passes, req.brownout?.passes ?? resolved.passes);
  const idempotency = req.idempotencyKey
    ? { account: account.id, key: req.idempotencyKey, ttlMs: policy.limits.idempotencyTtl }
    : undefined;
  // The ticket is issued by admitJob (0 is a stand-in it replaces).
  const { created, record } = await admitJob(
    infra.jobs,
    infra.events,
    newJobRecord(message, 0, passes, now),
    idempotency,
    { type: 'state', state: 'queued', pass: 0, passes, at: now },
  );
  if (!created) return { record, created };
  try {
    await infra.queue.publish(jobTopic(account.lane, account.tier), {
      key: id,
      value: Buffer.from(JSON.stringify(message)),
      headers: { traceparent: message.trace.traceparent },
    });
  } catch {
    const error = { code: 'queue_unavailable', message: 'The job could not be queued.' };
    await finishAndAnnounce(infra, id, null, 'failed', { error }, Date.now(), { pass: 0, passes }).catch(
      () => {},
    );
    throw new ApiError(
      503,
      'queue_unavailable',
      'The job queue is unavailable. Please retry later.',
      null,
      retryHeaders(jitteredHintMs(2000, Math.random()), null),
    );
  }
  return { record, created };
}
