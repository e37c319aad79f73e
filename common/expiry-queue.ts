/**
 * Keys in the order they expire, so an in-memory store can drop what expired without timers or a
 * scan: a Map iterates in insertion order and `set` re-inserts, so when expiry times grow with
 * insertion (one retention, a clock that moves forward) the next key due is always first and
 * taking the expired ones costs O(1) each. With mixed lifetimes a key may be released late, never
 * early, so an owner that must be exact still compares times on reads.
 */
export class ExpiryQueue<K> {
  private readonly due = new Map<K, number>();

  /** Schedules `key` to expire at `at`, replacing any earlier schedule. */
  set(key: K, at: number): void {
    this.due.delete(key);
    this.due.set(key, at);
  }

  delete(key: K): void {
    this.due.delete(key);
  }

  get size(): number {
    return this.due.size;
  }

  /** Removes and returns the keys due at or before `now`, oldest first. */
  takeExpired(now: number): K[] {
    const out: K[] = [];
    for (const [key, at] of this.due) {
      if (at > now) break;
      this.due.delete(key);
      out.push(key);
    }
    return out;
  }
}
