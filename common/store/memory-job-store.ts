import type { JobRecord, TerminalState } from '../contracts/index.ts';
import type { ClaimResult, FinishPatch, IdempotencyScope, JobStore, UpdateResult } from './job-store.ts';
import { applyAddPartial, applyClaim, applyFinish, applyProgress, isOverdue } from './job-transitions.ts';

/** In-process job store for the embedded mode. Records are cloned in and out, as a real store would. */
export class MemoryJobStore implements JobStore {
  private readonly records = new Map<string, JobRecord>();
  private readonly checkpoints = new Map<string, Uint8Array>();
  private readonly idempotency = new Map<string, { id: string; expiresAt: number }>();
  private readonly tickets = new Map<string, { issued: number; served: number }>();

  async create(record: JobRecord, idem?: IdempotencyScope) {
    if (idem) {
      const k = `${idem.account}\u0000${idem.key}`;
      const seen = this.idempotency.get(k);
      const existing = seen && seen.expiresAt > Date.now() ? this.records.get(seen.id) : undefined;
      if (existing) return { created: false, record: structuredClone(existing) };
      this.idempotency.set(k, { id: record.id, expiresAt: Date.now() + idem.ttlMs });
    }
    if (this.records.has(record.id))
      return { created: false, record: structuredClone(this.records.get(record.id)!) };
    const stored = structuredClone(record);
    this.records.set(record.id, stored);
    // The caller's own object equals what was stored and is not shared with the store: returning
    // it spares a second deep copy of every admitted job.
    return { created: true, record };
  }

  async get(id: string) {
    const r = this.records.get(id);
    return r ? structuredClone(r) : null;
  }

  async claim(id: string, owner: string, leaseMs: number, now: number): Promise<ClaimResult> {
    const result = applyClaim(this.records.get(id) ?? null, owner, leaseMs, now);
    if (result.ok) this.records.set(id, result.record);
    return structuredClone(result);
  }

  private commit(id: string, result: UpdateResult): UpdateResult {
    if (result.ok) this.records.set(id, result.record);
    return structuredClone(result);
  }

  async progress(id: string, fence: number, pass: number, passes: number, leaseUntil: number, now: number) {
    return this.commit(id, applyProgress(this.records.get(id) ?? null, fence, pass, passes, leaseUntil, now));
  }

  async addPartial(id: string, fence: number, blob: string, now: number) {
    return this.commit(id, applyAddPartial(this.records.get(id) ?? null, fence, blob, now));
  }

  async finish(id: string, fence: number | null, to: TerminalState, patch: FinishPatch, now: number) {
    const result = this.commit(id, applyFinish(this.records.get(id) ?? null, fence, to, patch, now));
    if (result.ok) this.checkpoints.delete(id);
    return result;
  }

  async saveCheckpoint(id: string, fence: number, data: Uint8Array): Promise<UpdateResult> {
    const r = this.records.get(id) ?? null;
    const check = applyProgress(
      r,
      fence,
      r?.pass ?? 0,
      r?.passes ?? 0,
      r?.leaseUntil ?? 0,
      r?.updatedAt ?? 0,
    );
    if (!check.ok) return structuredClone(check);
    this.checkpoints.set(id, new Uint8Array(data));
    return structuredClone(check);
  }

  async loadCheckpoint(id: string) {
    const c = this.checkpoints.get(id);
    return c ? new Uint8Array(c) : null;
  }

  async listOverdue(now: number, unclaimedMs: number, limit: number) {
    const out: JobRecord[] = [];
    for (const r of this.records.values()) {
      if (out.length >= limit) break;
      if (isOverdue(r, now, unclaimedMs)) out.push(structuredClone(r));
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
