import type { ProgressEvent, SequencedEvent } from '../contracts/index.ts';

/**
 * Per-job progress events (state changes, partial images). The log is the truth; `watch` is only
 * a wake-up so a reader re-reads from its last sequence number, which makes lost notifications
 * harmless. Implementations: RedisEventLog (streams + pub/sub wake-ups), MemoryEventLog.
 */
export interface EventLog {
  /** Appends and returns the event's sequence number (1, 2, …). */
  append(jobId: string, event: ProgressEvent): Promise<number>;
  /** Events with seq > after, in order. */
  read(jobId: string, after: number): Promise<SequencedEvent[]>;
  /** Calls `onWake` (possibly spuriously) after appends to this job; returns the unsubscribe. */
  watch(jobId: string, onWake: () => void): () => void;
}
