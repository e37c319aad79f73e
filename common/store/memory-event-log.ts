import { EventEmitter } from 'node:events';
import type { ProgressEvent, SequencedEvent } from '../contracts/index.ts';
import { ExpiryQueue } from '../expiry-queue.ts';
import type { EventLog } from './event-log.ts';
import { DEFAULT_TERMINAL_RETENTION_MS } from './retention.ts';
import { plainCopy } from '../plain-copy.ts';

export interface MemoryEventLogOptions {
  /** How long a job's events stay after its last append (RedisEventLog's option, with its default). */
  retentionMs?: number;
  /** Clock for retention; tests pass a fake one. */
  now?: () => number;
}

/**
 * In-process event log for the embedded mode. A job's log is dropped once `retentionMs` passed
 * since its last append, as a Redis stream's expiry does, so a long-running process keeps only the
 * recent jobs' events; every call first drops what expired.
 */
export class MemoryEventLog implements EventLog {
  private readonly logs = new Map<string, SequencedEvent[]>();
  private readonly wakeups = new EventEmitter().setMaxListeners(0);
  private readonly expiry = new ExpiryQueue<string>();
  private readonly retentionMs: number;
  private readonly clock: () => number;

  constructor(options: MemoryEventLogOptions = {}) {
    this.retentionMs = options.retentionMs ?? DEFAULT_TERMINAL_RETENTION_MS;
    this.clock = options.now ?? Date.now;
  }

  /** How many jobs have a log, for tests that it forgets. */
  size() {
    return this.logs.size;
  }

  private prune() {
    for (const id of this.expiry.takeExpired(this.clock())) this.logs.delete(id);
  }

  async append(jobId: string, event: ProgressEvent) {
    this.prune();
    let log = this.logs.get(jobId);
    if (!log) {
      log = [];
      this.logs.set(jobId, log);
    }
    const seq = log.length + 1;
    log.push({ seq, event: plainCopy(event) });
    this.expiry.set(jobId, this.clock() + this.retentionMs);
    queueMicrotask(() => this.wakeups.emit(jobId));
    return seq;
  }

  async read(jobId: string, after: number) {
    this.prune();
    return plainCopy((this.logs.get(jobId) ?? []).filter((e) => e.seq > after));
  }

  watch(jobId: string, onWake: () => void) {
    this.wakeups.on(jobId, onWake);
    return () => {
      this.wakeups.off(jobId, onWake);
    };
  }
}
