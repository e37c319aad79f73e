import { z } from 'zod';
import { Brownout } from './job-message.ts';

export const AdmissionMode = z.enum(['open', 'async-only', 'shed']);
export type AdmissionMode = z.infer<typeof AdmissionMode>;

/** What gateways apply for one lane × tier until the next state arrives. */
export const TierAdmission = z.object({
  mode: AdmissionMode,
  /** Cost units per second all gateways together may admit (global token bucket); null = no cap. */
  rate: z.number().min(0).nullable(),
  burst: z.number().min(0),
  brownout: Brownout,
  /** Whether edits (optional, costlier work) are admitted at this level. */
  edits: z.boolean(),
  expectedWaitMs: z.number().min(0),
  maxWaitMs: z.number().min(0),
});
export type TierAdmission = z.infer<typeof TierAdmission>;

/** Published by the leader controller; versioned, fenced by the lease epoch, and valid for ttlMs. */
export const AdmissionState = z.object({
  v: z.literal(1),
  version: z.number().int().min(0),
  epoch: z.number().int().min(0),
  issuedAt: z.number().int(),
  ttlMs: z.number().int().positive(),
  policyVersion: z.string(),
  law: z.string(),
  lanes: z.record(z.string(), z.record(z.string(), TierAdmission)),
  signup: z.object({ rate: z.number().min(0).nullable(), burst: z.number().min(0) }),
  /** Why the state is what it is (bottleneck, law output), for the status page and logs. */
  reasons: z.array(z.string()),
});
export type AdmissionState = z.infer<typeof AdmissionState>;

export function isFresh(state: AdmissionState, now: number): boolean {
  return now - state.issuedAt <= state.ttlMs;
}
