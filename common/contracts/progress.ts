import { z } from 'zod';
import { JobState } from './job-record.ts';

/**
 * One entry in a job's event log: what the gateway turns into SSE events and sync answers.
 * Partial images travel as blob keys, not bytes, so the store stays light.
 */
export const ProgressEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('state'),
    state: JobState,
    pass: z.number().int(),
    passes: z.number().int(),
    at: z.number(),
  }),
  z.object({
    type: z.literal('partial'),
    index: z.number().int().min(0),
    pass: z.number().int(),
    passes: z.number().int(),
    blob: z.string(),
    width: z.number().int(),
    height: z.number().int(),
    at: z.number(),
  }),
]);
export type ProgressEvent = z.infer<typeof ProgressEvent>;

export interface SequencedEvent {
  seq: number;
  event: ProgressEvent;
}
