import { z } from 'zod';
import { JobMessage } from './job-message.ts';

export const JobState = z.enum([
  'queued',
  'running',
  'completed',
  'blocked',
  'failed',
  'expired',
  'cancelled',
]);
export type JobState = z.infer<typeof JobState>;

export const TERMINAL_STATES = ['completed', 'blocked', 'failed', 'expired', 'cancelled'] as const;
export type TerminalState = (typeof TERMINAL_STATES)[number];

/** The legal transitions. `running → running` is progress (pass k of n) or a takeover after a lost lease. */
export const TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  queued: ['running', 'cancelled', 'expired', 'failed'],
  running: ['running', 'completed', 'blocked', 'failed', 'expired', 'cancelled'],
  completed: [],
  blocked: [],
  failed: [],
  expired: [],
  cancelled: [],
};

export function isTerminal(state: JobState): state is TerminalState {
  return (TERMINAL_STATES as readonly string[]).includes(state);
}

export function canTransition(from: JobState, to: JobState): boolean {
  return TRANSITIONS[from].includes(to);
}

export const ResultImage = z.object({
  blob: z.string(),
  format: z.enum(['png', 'jpeg', 'webp']),
  width: z.number().int(),
  height: z.number().int(),
});
export type ResultImage = z.infer<typeof ResultImage>;

export const Usage = z.object({
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  total_tokens: z.number().int(),
  input_tokens_details: z.object({ text_tokens: z.number().int(), image_tokens: z.number().int() }),
});
export type Usage = z.infer<typeof Usage>;

export const JobError = z.object({ code: z.string(), message: z.string() });
export type JobError = z.infer<typeof JobError>;

/** The durable truth about a job, kept in the store; Kafka only dispatches it. */
export const JobRecord = z.object({
  v: z.literal(1),
  id: z.string(),
  account: z.string(),
  tier: z.string(),
  lane: z.string(),
  state: JobState,
  /** Decode passes finished so far, and planned. */
  pass: z.number().int().min(0),
  passes: z.number().int().min(0),
  /** Worker that holds the job while running; `fence` grows on every claim so a stale owner is refused. */
  owner: z.string().nullable(),
  fence: z.number().int().min(0),
  leaseUntil: z.number().int(),
  /** Number of times a worker claimed the job. */
  claims: z.number().int().min(0),
  /** Monotonic number per lane × tier, used to compute queue position. */
  ticket: z.number().int().min(0),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  startedAt: z.number().int().nullable(),
  finishedAt: z.number().int().nullable(),
  deadline: z.number().int(),
  result: z.object({ created: z.number().int(), images: z.array(ResultImage), usage: Usage }).nullable(),
  /** Partial images already produced, in order (blob keys), so a late reader can catch up. */
  partials: z.array(z.string()),
  error: JobError.nullable(),
  message: JobMessage,
});
export type JobRecord = z.infer<typeof JobRecord>;

export function newJobRecord(message: JobMessage, ticket: number, passes: number, now: number): JobRecord {
  return {
    v: 1,
    id: message.id,
    account: message.account,
    tier: message.tier,
    lane: message.lane,
    state: 'queued',
    pass: 0,
    passes,
    owner: null,
    fence: 0,
    leaseUntil: 0,
    claims: 0,
    ticket,
    createdAt: now,
    updatedAt: now,
    startedAt: null,
    finishedAt: null,
    deadline: message.deadline,
    result: null,
    partials: [],
    error: null,
    message,
  };
}
