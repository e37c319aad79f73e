/**
 * Idempotency keys this gateway has already turned into jobs, so a retry that comes back here is
 * answered with its job before admission (no limit spent, no refusal of a job that exists). The
 * store's idempotent create stays the truth across gateways; this is only a shortcut.
 */
export class IdempotencyMemo {
  private readonly entries = new Map<string, { jobId: string; expiresAt: number }>();

  constructor(private readonly maxEntries = 50_000) {}

  private static key(account: string, key: string) {
    return `${account}\u0000${key}`;
  }

  get(account: string, key: string, now: number): string | null {
    const e = this.entries.get(IdempotencyMemo.key(account, key));
    return e && e.expiresAt > now ? e.jobId : null;
  }

  remember(account: string, key: string, jobId: string, ttlMs: number, now: number): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(IdempotencyMemo.key(account, key), { jobId, expiresAt: now + ttlMs });
  }
}
