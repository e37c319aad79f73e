import { canTransition, isTerminal, type JobRecord, type TerminalState } from '../contracts/index.ts';
import type { ClaimResult, FinishPatch, UpdateResult } from './job-store.ts';

/**
 * The job state machine as pure functions of a record. MemoryJobStore applies them directly; the
 * Redis Lua scripts implement the same rules, and the conformance suite holds both to them.
 */
export function applyClaim(
  record: JobRecord | null,
  owner: string,
  leaseMs: number,
  now: number,
): ClaimResult {
  if (!record) return { ok: false, code: 'not_found', record: null };
  if (isTerminal(record.state)) return { ok: false, code: 'terminal', record };
  if (record.state === 'running' && record.leaseUntil >= now) return { ok: false, code: 'owned', record };
  const fence = record.fence + 1;
  const next: JobRecord = {
    ...record,
    state: 'running',
    owner,
    fence,
    leaseUntil: now + leaseMs,
    claims: record.claims + 1,
    startedAt: record.startedAt ?? now,
    updatedAt: now,
  };
  return { ok: true, fence, record: next };
}

function fencedCheck(record: JobRecord | null, fence: number): UpdateResult | null {
  if (!record) return { ok: false, code: 'not_found', record: null };
  if (isTerminal(record.state)) return { ok: false, code: 'terminal', record };
  if (record.fence !== fence || record.state !== 'running') return { ok: false, code: 'fenced', record };
  return null;
}

export function applyProgress(
  record: JobRecord | null,
  fence: number,
  pass: number,
  passes: number,
  leaseUntil: number,
  now: number,
): UpdateResult {
  const refused = fencedCheck(record, fence);
  if (refused) return refused;
  return { ok: true, record: { ...record!, pass, passes, leaseUntil, updatedAt: now } };
}

export function applyAddPartial(
  record: JobRecord | null,
  fence: number,
  blob: string,
  now: number,
): UpdateResult {
  const refused = fencedCheck(record, fence);
  if (refused) return refused;
  return { ok: true, record: { ...record!, partials: [...record!.partials, blob], updatedAt: now } };
}

export function applyFinish(
  record: JobRecord | null,
  fence: number | null,
  to: TerminalState,
  patch: FinishPatch,
  now: number,
): UpdateResult {
  if (!record) return { ok: false, code: 'not_found', record: null };
  if (isTerminal(record.state)) return { ok: false, code: 'terminal', record };
  if (fence !== null && (record.fence !== fence || record.state !== 'running')) {
    return { ok: false, code: 'fenced', record };
  }
  if (!canTransition(record.state, to)) return { ok: false, code: 'illegal_transition', record };
  const next: JobRecord = {
    ...record,
    state: to,
    owner: null,
    leaseUntil: 0,
    finishedAt: now,
    updatedAt: now,
    result: patch.result ?? record.result,
    error: patch.error ?? record.error,
  };
  return { ok: true, record: next };
}

/** Whether the reaper must look at this record now (see JobStore.listOverdue). */
export function isOverdue(record: JobRecord, now: number, unclaimedMs: number): boolean {
  if (isTerminal(record.state)) return false;
  if (record.state === 'running') return record.leaseUntil < now;
  return record.deadline < now || now - record.createdAt > unclaimedMs;
}
