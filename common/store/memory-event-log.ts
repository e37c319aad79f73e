import { EventEmitter } from 'node:events';
import type { ProgressEvent, SequencedEvent } from '../contracts/index.ts';
import type { EventLog } from './event-log.ts';

export class MemoryEventLog implements EventLog {
  private readonly logs = new Map<string, SequencedEvent[]>();
  private readonly wakeups = new EventEmitter().setMaxListeners(0);

  async append(jobId: string, event: ProgressEvent) {
    let log = this.logs.get(jobId);
    if (!log) {
      log = [];
      this.logs.set(jobId, log);
    }
    const seq = log.length + 1;
    log.push({ seq, event: structuredClone(event) });
    queueMicrotask(() => this.wakeups.emit(jobId));
    return seq;
  }

  async read(jobId: string, after: number) {
    return structuredClone((this.logs.get(jobId) ?? []).filter((e) => e.seq > after));
  }

  watch(jobId: string, onWake: () => void) {
    this.wakeups.on(jobId, onWake);
    return () => {
      this.wakeups.off(jobId, onWake);
    };
  }
}
