import type { Brownout, Operation, TierAdmission } from '../common/contracts/index.ts';
import { jitteredHintMs } from './retry-hints.ts';

/**
 * The per-request admission decision as a pure function: everything it needs is passed in, it
 * returns what to do. The request path calls it twice: first without limit outcomes (a refusal
 * here costs no round trip at all), then with the per-account and global token outcomes taken in
 * one parallel round trip.
 */

const SHED_HINT_BASE_MS = 2000;

export interface LimitOutcomes {
  /** Per-account limit: ok, or how long until the account may try again. */
  account: { ok: boolean; waitMs: number };
  /** Global token bucket of lane × tier; null when the state has no cap for it. */
  global: { ok: boolean; waitMs: number } | null;
}

export interface AdmissionInput {
  operation: Operation;
  /** The request holds a connection until the result (sync JSON or a stream). */
  holdsConnection: boolean;
  /** The client said `Prefer: respond-async`: a 202 is an acceptable answer. */
  allowAsync: boolean;
  /** A retry of an earlier attempt (x-stainless-retry-count > 0 or a repeated idempotency key). */
  retry: boolean;
  cost: number;
  /** Result of the rollout gate(s) for this tier and the request's features. */
  gateOpen: boolean;
  /** The controller's (or static) admission for the account's lane × tier; null = unknown. */
  tier: TierAdmission | null;
  syncWaitMs: number;
  /**
   * Policy `limits.retryHeadroom`: a retry is admitted only while its tier's bucket holds this
   * many times its cost, and takes only its cost. Retries are shed before first attempts, yet once
   * only retries are left (a spike's clients coming back) they get the whole rate; charging them
   * the headroom instead halved the rate then (GPU at 40–55 % at the end of distributed launch-day).
   */
  retryHeadroom: number;
  limits?: LimitOutcomes;
  /** In [0, 1): jitter for the retry hint. */
  random: number;
}

export type RefusalReason =
  | 'rollout'
  | 'unknown_tier'
  | 'account_rate'
  | 'shed'
  | 'over_max_wait'
  | 'edits_off'
  | 'retry_shed'
  | 'sync_off'
  | 'global_rate';

export type AdmissionDecision =
  | {
      kind: 'refuse';
      reason: RefusalReason;
      status: 403 | 429 | 503;
      code: string;
      message: string;
      /** Retry hint in ms, within (0, 60 s]; null when retrying cannot help. */
      hintMs: number | null;
    }
  /** Take `tokens` from the tier's bucket, only while it holds `need` (≥ tokens). */
  | { kind: 'check-limits'; tokens: number; need: number }
  | { kind: 'admit'; respond: 'sync' | 'async'; brownout: Brownout | null };

function refuse(
  reason: RefusalReason,
  status: 403 | 429 | 503,
  code: string,
  message: string,
  hintMs: number | null,
): AdmissionDecision {
  return { kind: 'refuse', reason, status, code, message, hintMs };
}

/** Shed clients come back later the deeper the brownout, spread so they do not return together. */
function shedHint(t: TierAdmission, r: number): number {
  return jitteredHintMs(SHED_HINT_BASE_MS * (1 + t.brownout.level), r);
}

/**
 * The refusals the tier's admission state decides alone, whatever the request says beyond its
 * operation: shed, a queue past its longest wait, edits paused. decideAdmission makes them in this
 * order after the rollout gate and the account's limit; the gateway also makes them before reading
 * a body (refusalBeforeBody), where nothing of the body could change them.
 */
function tierRefusal(t: TierAdmission, operation: Operation, r: number): AdmissionDecision | null {
  if (t.mode === 'shed') {
    return refuse(
      'shed',
      429,
      'capacity_exceeded',
      'The service is at capacity for your plan. Please retry later.',
      shedHint(t, r),
    );
  }
  if (t.expectedWaitMs > t.maxWaitMs) {
    return refuse(
      'over_max_wait',
      429,
      'capacity_exceeded',
      'The queue for your plan is too long. Please retry later.',
      jitteredHintMs(t.expectedWaitMs - t.maxWaitMs, r),
    );
  }
  if (operation === 'edit' && !t.edits) {
    return refuse(
      'edits_off',
      429,
      'edits_unavailable',
      'Image edits are paused under the current load. Please retry later.',
      shedHint(t, r),
    );
  }
  return null;
}

/**
 * The refusal decideAdmission would make whatever the body holds, when there is one: with no
 * rollout gate in force (gates look at body fields: stream, sync) and a known tier, the tier's
 * state alone. Null means "read the body and decide as usual".
 */
export function refusalBeforeBody(
  tier: TierAdmission | null,
  operation: Operation,
  gatesInForce: boolean,
  random: number,
): Extract<AdmissionDecision, { kind: 'refuse' }> | null {
  if (gatesInForce || !tier) return null;
  const d = tierRefusal(tier, operation, random);
  return d?.kind === 'refuse' ? d : null;
}

export function decideAdmission(input: AdmissionInput): AdmissionDecision {
  if (!input.gateOpen) {
    return refuse(
      'rollout',
      403,
      'feature_not_available',
      'This feature is not available for your plan yet.',
      null,
    );
  }
  const t = input.tier;
  if (!t)
    return refuse('unknown_tier', 503, 'tier_unavailable', 'No capacity is configured for your plan.', null);
  const r = input.random;
  if (input.limits && !input.limits.account.ok) {
    return refuse(
      'account_rate',
      429,
      'rate_limit_exceeded',
      'Rate limit reached for requests on your account. Please retry later.',
      jitteredHintMs(input.limits.account.waitMs, r),
    );
  }
  const byTier = tierRefusal(t, input.operation, r);
  if (byTier) return byTier;
  const asyncOnly = t.mode === 'async-only' || (input.holdsConnection && t.expectedWaitMs > input.syncWaitMs);
  if (asyncOnly && input.retry) {
    return refuse(
      'retry_shed',
      429,
      'capacity_exceeded',
      'Retries are paused under the current load. Please retry later.',
      shedHint(t, r),
    );
  }
  if (asyncOnly && input.holdsConnection && !input.allowAsync) {
    return refuse(
      'sync_off',
      429,
      'sync_unavailable',
      'Synchronous requests are paused under the current load; send `Prefer: respond-async` to queue the job.',
      jitteredHintMs(Math.max(SHED_HINT_BASE_MS, t.expectedWaitMs), r),
    );
  }
  if (!input.limits) {
    const need = input.retry ? input.cost * input.retryHeadroom : input.cost;
    return { kind: 'check-limits', tokens: input.cost, need };
  }
  const global = input.limits.global;
  if (global && !global.ok) {
    return refuse(
      'global_rate',
      429,
      'capacity_exceeded',
      'The service is at capacity for your plan. Please retry later.',
      jitteredHintMs(global.waitMs, r),
    );
  }
  const respond = asyncOnly || !input.holdsConnection ? 'async' : 'sync';
  return { kind: 'admit', respond, brownout: t.brownout.level > 0 ? t.brownout : null };
}
