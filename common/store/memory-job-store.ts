import type { JobRecord, TerminalState } from '../contracts/index.ts';
import { ExpiryQueue } from '../expiry-queue.ts';
import type { ClaimResult, FinishPatch, IdempotencyScope, JobStore, UpdateResult } from './job-store.ts';
import { applyAddPartial, applyClaim, applyFinish, applyProgress, isOverdue } from './job-transitions.ts';
import { DEFAULT_TERMINAL_RETENTION_MS } from './retention.ts';
import { plainCopy } from '../plain-copy.ts';

export interface MemoryJobStoreOptions {
  /** How long a finished record stays readable (RedisJobStore's option, with its default). */
  terminalRetentionMs?: number;
  /** Clock for retention and idempotency expiry; tests pass a fake one. */
  now?: () => number;
}

/**
 * In-process job store for the embedded mode. Records are cloned in and out, as a real store would.
 * Like Redis's key expiry, a finished record and an idempotency key are forgotten once their time
 * is up, so a long-running process holds only the recent jobs: each record call first drops what
 * expired.
 */
export class MemoryJobStore implements JobStore {
  private readonly records = new Map<string, JobRecord>();
  private readonly checkpoints = new Map<string, Uint8Array>();
  private readonly idempotency = new Map<string, { id: string; expiresAt: number }>();
  private readonly tickets = new Map<string, { issued: number; served: number }>();
  private readonly finished = new ExpiryQueue<string>();
  private readonly idempotencyExpiry = new ExpiryQueue<string>();
  private readonly retentionMs: number;
  private readonly clock: () => number;

  constructor(options: MemoryJobStoreOptions = {}) {
    this.retentionMs = options.terminalRetentionMs ?? DEFAULT_TERMINAL_RETENTION_MS;
    this.clock = options.now ?? Date.now;
  }

  /** What the store holds, for tests that it forgets. */
  counts() {
    return {
      records: this.records.size,
      checkpoints: this.checkpoints.size,
      idempotency: this.idempotency.size,
    };
  }

  private prune() {
    const now = this.clock();
    for (const id of this.finished.takeExpired(now)) {
      this.records.delete(id);
      this.checkpoints.delete(id);
    }
    for (const k of this.idempotencyExpiry.takeExpired(now)) this.idempotency.delete(k);
  }

  async create(record: JobRecord, idem?: IdempotencyScope) {
    this.prune();
    if (idem) {
      const k = `${idem.account}\u0000${idem.key}`;
      const now = this.clock();
      const seen = this.idempotency.get(k);
      const existing = seen && seen.expiresAt > now ? this.records.get(seen.id) : undefined;
      if (existing) return { created: false, record: plainCopy(existing) };
      this.idempotency.set(k, { id: record.id, expiresAt: now + idem.ttlMs });
      this.idempotencyExpiry.set(k, now + idem.ttlMs);
    }
    if (this.records.has(record.id))
      return { created: false, record: plainCopy(this.records.get(record.id)!) };
    const stored = plainCopy(record);
    this.records.set(record.id, stored);
    // The caller's own object equals what was stored and is not shared with the store: returning
    // it spares a second deep copy of every admitted job.
    return { created: true, record };
  }

  async get(id: string) {
    this.prune();
    const r = this.records.get(id);
    return r ? plainCopy(r) : null;
  }

  async claim(id: string, owner: string, leaseMs: number, now: number): Promise<ClaimResult> {
    this.prune();
    const result = applyClaim(this.records.get(id) ?? null, owner, leaseMs, now);
    if (result.ok) this.records.set(id, result.record);
    return plainCopy(result);
  }

  private commit(id: string, result: UpdateResult): UpdateResult {
    if (result.ok) this.records.set(id, result.record);
    return plainCopy(result);
  }

  async progress(id: string, fence: number, pass: number, passes: number, leaseUntil: number, now: number) {
    this.prune();
    return this.commit(id, applyProgress(this.records.get(id) ?? null, fence, pass, passes, leaseUntil, now));
  }

  async addPartial(id: string, fence: number, blob: string, now: number) {
    this.prune();
    return this.commit(id, applyAddPartial(this.records.get(id) ?? null, fence, blob, now));
  }

  async finish(id: string, fence: number | null, to: TerminalState, patch: FinishPatch, now: number) {
    this.prune();
    const result = this.commit(id, applyFinish(this.records.get(id) ?? null, fence, to, patch, now));
    if (!result.ok) return result;
    this.checkpoints.delete(id);
    // The store's clock, not the caller's `now`: Redis expires a record by its own clock too.
    this.finished.set(id, this.clock() + this.retentionMs);
    return result;
  }

  async saveCheckpoint(id: string, fence: number, data: Uint8Array): Promise<UpdateResult> {
    this.prune();
    const r = this.records.get(id) ?? null;
    const check = applyProgress(
      r,
      fence,
      r?.pass ?? 0,
      r?.passes ?? 0,
      r?.leaseUntil ?? 0,
      r?.updatedAt ?? 0,
    );
    if (!check.ok) return plainCopy(check);
    this.checkpoints.set(id, new Uint8Array(data));
    return plainCopy(check);
  }

  async loadCheckpoint(id: string) {
    this.prune();
    const c = this.checkpoints.get(id);
    return c ? new Uint8Array(c) : null;
  }

  async listOverdue(now: number, unclaimedMs: number, limit: number) {
    this.prune();
    const out: JobRecord[] = [];
    for (const r of this.records.values()) {
      if (out.length >= limit) break;
      if (isOverdue(r, now, unclaimedMs)) out.push(plainCopy(r));
    }
    return out;
  }

  private counter(lane: string, tier: string) {
    const k = `${lane}/${tier}`;
    let c = this.tickets.get(k);
    if (!c) {
      c = { issued: 0, served: 0 };
      this.tickets.set(k, c);
    }
    return c;
  }

  async nextTicket(lane: string, tier: string) {
    return ++this.counter(lane, tier).issued;
  }

  async markServed(lane: string, tier: string, ticket: number) {
    const c = this.counter(lane, tier);
    c.served = Math.max(c.served, ticket);
  }

  async queueStats() {
    return [...this.tickets.entries()].map(([k, c]) => {
      const [lane, tier] = k.split('/');
      return { lane, tier, issued: c.issued, served: c.served };
    });
  }

  async ping() {
    return 0;
  }
}
