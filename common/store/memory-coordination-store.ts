import {
  type AdmissionState,
  type ControllerHandover,
  parseHandover,
  type SignalReport,
} from '../contracts/index.ts';
import { type BucketState, takeFromBucket } from '../token-bucket.ts';
import type { BucketSpec, CoordinationStore, Lease, TokenOutcome } from './coordination-store.ts';
import { plainCopy } from '../plain-copy.ts';

export class MemoryCoordinationStore implements CoordinationStore {
  private readonly leases = new Map<string, { holder: string; epoch: number; expiresAt: number }>();
  private readonly epochs = new Map<string, number>();
  private admission: AdmissionState | null = null;
  /** As JSON, as Redis keeps it: what JSON cannot carry (Infinity, NaN) is lost here too. */
  private handover: string | null = null;
  private readonly signals = new Map<string, { signal: SignalReport; expiresAt: number }>();
  private readonly buckets = new Map<string, BucketState>();

  async acquireLease(name: string, holder: string, ttlMs: number, now: number): Promise<Lease> {
    const cur = this.leases.get(name);
    if (cur && cur.expiresAt > now && cur.holder !== holder) {
      return { held: false, holder: cur.holder, epoch: cur.epoch, expiresAt: cur.expiresAt };
    }
    const epoch =
      cur && cur.holder === holder && cur.expiresAt > now ? cur.epoch : (this.epochs.get(name) ?? 0) + 1;
    this.epochs.set(name, epoch);
    const lease = { holder, epoch, expiresAt: now + ttlMs };
    this.leases.set(name, lease);
    return { held: true, ...lease };
  }

  async releaseLease(name: string, holder: string) {
    if (this.leases.get(name)?.holder === holder) this.leases.delete(name);
  }

  async publishAdmission(state: AdmissionState, handover?: ControllerHandover) {
    if (this.admission && this.admission.epoch > state.epoch) return false;
    this.admission = plainCopy(state);
    if (handover) this.handover = JSON.stringify(handover);
    return true;
  }

  async readHandover() {
    return this.handover === null ? null : parseHandover(this.handover);
  }

  async readAdmission() {
    return this.admission ? plainCopy(this.admission) : null;
  }

  async reportSignal(signal: SignalReport, ttlMs: number) {
    this.signals.set(`${signal.source}/${signal.id}`, {
      signal: plainCopy(signal),
      expiresAt: Date.now() + ttlMs,
    });
  }

  async readSignals() {
    const now = Date.now();
    const out: SignalReport[] = [];
    for (const [k, v] of this.signals) {
      if (v.expiresAt <= now) this.signals.delete(k);
      else out.push(plainCopy(v.signal));
    }
    return out;
  }

  async takeTokens(
    bucket: string,
    cost: number,
    ratePerSec: number,
    burst: number,
    now: number,
    fallbacks: readonly BucketSpec[] = [],
    need = cost,
  ): Promise<TokenOutcome> {
    const r = takeFromBucket(this.buckets.get(bucket) ?? null, cost, ratePerSec, burst, now, need);
    this.buckets.set(bucket, r.state);
    if (r.ok) return { ok: true, waitMs: 0 };
    for (const f of fallbacks) {
      const b = takeFromBucket(this.buckets.get(f.bucket) ?? null, cost, f.ratePerSec, f.burst, now, need);
      if (!b.ok) continue;
      this.buckets.set(f.bucket, b.state);
      return { ok: true, waitMs: 0, borrowedFrom: f.bucket };
    }
    return { ok: false, waitMs: r.waitMs };
  }
}
