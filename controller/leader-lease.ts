import type { CoordinationStore, Lease } from '../common/store/coordination-store.ts';

export const CONTROLLER_LEASE = 'controller';

/** A lease lives three intervals: one missed renewal is survived, a dead leader is replaced in seconds. */
export function leaseTtlMs(intervalMs: number): number {
  return 3 * Math.max(intervalMs, 500);
}

/**
 * The controller's leadership: acquired or renewed every interval; only the holder publishes, and
 * its publications carry the lease epoch so the store refuses a deposed leader's.
 */
export class LeaderLease {
  private lease: Lease | null = null;

  constructor(
    private readonly coord: CoordinationStore,
    readonly holder: string,
  ) {}

  async renew(ttlMs: number, now: number): Promise<Lease> {
    this.lease = await this.coord.acquireLease(CONTROLLER_LEASE, this.holder, ttlMs, now);
    return this.lease;
  }

  /** Held and not yet expired by our own clock (a renewal that failed does not extend it). */
  isLeader(now: number): boolean {
    return !!this.lease?.held && this.lease.expiresAt > now;
  }

  get epoch(): number {
    return this.lease?.epoch ?? 0;
  }

  /** Gives up after the store refused a publication: a newer epoch exists. */
  depose() {
    this.lease = null;
  }

  async release() {
    if (this.lease?.held) await this.coord.releaseLease(CONTROLLER_LEASE, this.holder);
    this.lease = null;
  }
}
