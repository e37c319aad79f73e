import { randomBytes } from 'node:crypto';
import type { JobMessage } from '../../common/contracts/index.ts';
import { newJobRecord } from '../../common/contracts/index.ts';
import type { Infra } from '../../common/infra.ts';
import { loadPolicyDir } from '../../common/policy/loader.ts';
import type { ActivePolicy } from '../../common/policy/schema.ts';
import { ensureModels, type ModelBundle } from '../../inference/models/model-cache.ts';

/** Models are built once per test process into the shared cache (a few hundred ms). */
let bundle: Promise<ModelBundle> | null = null;
export function testModels(): Promise<ModelBundle> {
  bundle ??= ensureModels();
  return bundle;
}

export function testPolicy(): Promise<ActivePolicy> {
  return loadPolicyDir('policies');
}

export function jobId(): string {
  return `job_${randomBytes(12).toString('hex')}`;
}

export type MessageOverrides = Partial<Omit<JobMessage, 'params'>> & {
  params?: Partial<JobMessage['params']>;
};

export function jobMessage(over: MessageOverrides = {}): JobMessage {
  const now = Date.now();
  const { params, ...rest } = over;
  return {
    v: 1,
    id: jobId(),
    account: 'acct_test',
    tier: 'pro',
    lane: 'api',
    operation: 'generate',
    cost: 1,
    prompt: 'a lighthouse on a cliff at dusk',
    inputImages: [],
    deadline: now + 60_000,
    attempt: 0,
    trace: { traceparent: '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01' },
    brownout: null,
    createdAt: now,
    ...rest,
    params: {
      model: 'gpt-image-1',
      size: '256x256',
      quality: 'auto',
      outputFormat: 'png',
      background: 'auto',
      partialImages: 0,
      n: 1,
      seed: 42,
      responseFormat: 'b64_json',
      ...params,
    },
  };
}

/** What the gateway does on accept: the record first, then the message on the lane × tier topic. */
export async function enqueue(infra: Infra, message: JobMessage, passes = 4): Promise<void> {
  const ticket = await infra.jobs.nextTicket(message.lane, message.tier);
  await infra.jobs.create(newJobRecord(message, ticket, passes, Date.now()));
}
