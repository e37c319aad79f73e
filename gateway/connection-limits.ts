/**
 * Sync and streaming requests held open per account on this gateway, bounded by the tier's
 * maxConnections so one account cannot pin all sockets.
 */
export class HeldConnections {
  private readonly byAccount = new Map<string, number>();
  private total = 0;

  /** Takes a slot; returns the release function, or null when the account is at its bound. */
  acquire(account: string, max: number): (() => void) | null {
    const n = this.byAccount.get(account) ?? 0;
    if (n >= max) return null;
    this.byAccount.set(account, n + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byAccount.get(account) ?? 1) - 1;
      if (left <= 0) this.byAccount.delete(account);
      else this.byAccount.set(account, left);
    };
  }

  get held(): number {
    return this.total;
  }
}
