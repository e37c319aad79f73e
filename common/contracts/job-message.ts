import { z } from 'zod';
import { ImageParams } from './image-params.ts';
import { TraceContext } from './trace.ts';

export const JOB_MESSAGE_VERSION = 1;

export const JobId = z.string().regex(/^job_[A-Za-z0-9]{20,40}$/, 'not a job id');
export const Operation = z.enum(['generate', 'edit']);
export type Operation = z.infer<typeof Operation>;

/** What admission decided to take away from this job to save GPU time (brownout). */
export const Brownout = z.object({
  level: z.number().int().min(0),
  /** Decode passes to run instead of the model's full count. */
  passes: z.number().int().min(1).optional(),
  /** Largest size the job may render; larger requests are rendered at this size. */
  maxSize: z.string().optional(),
  /** Cap on partial images streamed. */
  partialImages: z.number().int().min(0).max(3).optional(),
});
export type Brownout = z.infer<typeof Brownout>;

/** The message put on Kafka (one topic per lane × tier) for an inference worker. */
export const JobMessage = z.object({
  v: z.literal(JOB_MESSAGE_VERSION),
  id: JobId,
  account: z.string().min(1),
  tier: z.string().min(1),
  lane: z.string().min(1),
  operation: Operation,
  /** Cost in policy units (an edit costs more than a generation), used by admission and scheduling. */
  cost: z.number().positive(),
  prompt: z.string(),
  params: ImageParams,
  /** Blob keys of the source image(s) and mask for edits. */
  inputImages: z.array(z.string()).default([]),
  mask: z.string().optional(),
  /** Epoch ms after which the job must not start (its tier's maximum wait). */
  deadline: z.number().int(),
  /** How many times this job was handed to a worker before (redeliveries, reaper requeues). */
  attempt: z.number().int().min(0),
  trace: TraceContext,
  brownout: Brownout.nullable(),
  createdAt: z.number().int(),
});
export type JobMessage = z.infer<typeof JobMessage>;
