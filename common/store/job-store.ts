import type { JobRecord, ResultImage, TerminalState, Usage, JobError } from '../contracts/index.ts';

export type UpdateFailure = 'not_found' | 'fenced' | 'terminal' | 'illegal_transition';
export type UpdateResult =
  | { ok: true; record: JobRecord }
  | { ok: false; code: UpdateFailure; record: JobRecord | null };

export type ClaimResult =
  | { ok: true; fence: number; record: JobRecord }
  | { ok: false; code: 'not_found' | 'terminal' | 'owned'; record: JobRecord | null };

export interface IdempotencyScope {
  /** The account the key belongs to: the same key from two accounts means two jobs. */
  account: string;
  key: string;
  ttlMs: number;
}

export interface FinishPatch {
  result?: { created: number; images: ResultImage[]; usage: Usage };
  error?: JobError;
}

/** Where a job stood when it ended, as its terminal state event reports it. */
export interface TerminalPass {
  pass: number;
  passes: number;
}

/**
 * Job records: the durable truth of every accepted job. Every transition is atomic and checked
 * against TRANSITIONS; worker-side writes carry the fence from `claim` and fail once another
 * worker has claimed the job since. Implementations: RedisJobStore (Lua), MemoryJobStore.
 */
export interface JobStore {
  /**
   * Stores a new queued record. With an idempotency scope, a second create with the same account
   * and key returns the first record instead (created: false) and stores nothing.
   */
  create(record: JobRecord, idempotency?: IdempotencyScope): Promise<{ created: boolean; record: JobRecord }>;
  get(id: string): Promise<JobRecord | null>;
  /**
   * Takes the job for `owner`: allowed from `queued`, or from `running` when the previous
   * owner's lease has lapsed (now > leaseUntil). Increments the fence and the claim count.
   */
  claim(id: string, owner: string, leaseMs: number, now: number): Promise<ClaimResult>;
  /** Records progress (pass k of n) and extends the lease; fenced. */
  progress(
    id: string,
    fence: number,
    pass: number,
    passes: number,
    leaseUntil: number,
    now: number,
  ): Promise<UpdateResult>;
  /** Appends a partial image's blob key to the record; fenced. */
  addPartial(id: string, fence: number, blob: string, now: number): Promise<UpdateResult>;
  /**
   * Moves to a terminal state. `fence` null is the client or the reaper acting (cancel, expire):
   * allowed from any non-terminal state. Exactly one finish wins; later ones get `terminal`.
   */
  finish(
    id: string,
    fence: number | null,
    to: TerminalState,
    patch: FinishPatch,
    now: number,
  ): Promise<UpdateResult>;
  /** Opaque per-job checkpoint (token grid, pass index, last image); fenced. */
  saveCheckpoint(id: string, fence: number, data: Uint8Array): Promise<UpdateResult>;
  loadCheckpoint(id: string): Promise<Uint8Array | null>;
  /**
   * Non-terminal jobs that need the reaper: running with a lapsed lease, or queued past their
   * deadline, or queued and never claimed for longer than `unclaimedMs`.
   */
  listOverdue(now: number, unclaimedMs: number, limit: number): Promise<JobRecord[]>;
  /** Issues the next queue ticket for lane × tier (for queue positions). */
  nextTicket(lane: string, tier: string): Promise<number>;
  /** Records that tickets up to `ticket` of lane × tier have been taken by workers. */
  markServed(lane: string, tier: string, ticket: number): Promise<void>;
  queueStats(): Promise<{ lane: string; tier: string; issued: number; served: number }[]>;
  /** Round-trip latency of a trivial command, for the store saturation signal. */
  ping(): Promise<number>;
}
