import type { ActivePolicy } from './schema.ts';

/**
 * Where a service gets its policy: always a valid one (the last good), plus change notifications.
 * Implementations: StaticPolicySource (tests, one-shot tools) and the hot-reloading directory
 * watcher (common/policy/policy-watcher.ts).
 */
export interface PolicySource {
  current(): ActivePolicy;
  onChange(listener: (active: ActivePolicy) => void): () => void;
  close(): Promise<void>;
}

export class StaticPolicySource implements PolicySource {
  private listeners = new Set<(active: ActivePolicy) => void>();

  constructor(private active: ActivePolicy) {}

  current() {
    return this.active;
  }

  /** Replaces the policy (tests use this to simulate an ops edit). */
  set(active: ActivePolicy) {
    this.active = active;
    for (const l of this.listeners) l(active);
  }

  onChange(listener: (active: ActivePolicy) => void) {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  async close() {
    this.listeners.clear();
  }
}
