import type { Redis } from 'ioredis';
import type { ProgressEvent, SequencedEvent } from '../contracts/index.ts';
import type { EventLog } from './event-log.ts';
import { APPEND_EVENT } from './redis-scripts.ts';
import { DEFAULT_TERMINAL_RETENTION_MS } from './retention.ts';

/** Where a job's events go: its stream, the stream's bounds and its wake-up channel. */
export interface EventStream {
  stream: string;
  maxLength: string;
  retentionMs: string;
  channel: string;
}

/** One append's key and arguments (APPEND_EVENT's layout). */
export interface EventAppend extends EventStream {
  json: string;
}

export interface RedisEventLogOptions {
  prefix?: string;
  /** Safety cap per job; a job writes a few dozen events at most. */
  maxLength?: number;
  /** How long a job's events stay after its last append. */
  retentionMs?: number;
  /** Every watcher is woken this often even without a notification, so a lost one costs a delay only. */
  fallbackWakeMs?: number;
}

/**
 * Progress events as one Redis stream per job. Entry ids are `0-<seq>`, so the sequence number is
 * the stream's own and `read(after)` is one XRANGE. Wake-ups travel over pub/sub, one channel per
 * job, on a single subscriber connection per process that dispatches to local watchers.
 */
export class RedisEventLog implements EventLog {
  private readonly prefix: string;
  private readonly maxLength: number;
  private readonly retentionMs: number;
  private readonly fallbackWakeMs: number;
  private readonly watchers = new Map<string, Set<() => void>>();
  private fallbackTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly redis: Redis,
    private readonly subscriber: Redis,
    options: RedisEventLogOptions = {},
  ) {
    this.prefix = options.prefix ?? 'spillway:';
    this.maxLength = options.maxLength ?? 1_000;
    this.retentionMs = options.retentionMs ?? DEFAULT_TERMINAL_RETENTION_MS;
    this.fallbackWakeMs = options.fallbackWakeMs ?? 2_000;
    subscriber.on('message', (channel: string) => this.wake(channel.slice(this.channelPrefix.length)));
    // Notifications sent while the subscriber was away are lost: wake everyone to re-read.
    subscriber.on('ready', () => this.wakeAll());
  }

  private get channelPrefix() {
    return `${this.prefix}wake:`;
  }

  private streamKey(jobId: string) {
    return `${this.prefix}events:${jobId}`;
  }

  async append(jobId: string, event: ProgressEvent) {
    const a = this.appendSpec(jobId, event);
    const id = (await APPEND_EVENT.run(
      this.redis,
      [a.stream],
      [a.maxLength, a.json, a.retentionMs, a.channel],
    )) as string;
    return Number(id.split('-')[1]);
  }

  /** Where and how an append writes, for a script that appends as one step of a larger write. */
  appendSpec(jobId: string, event: ProgressEvent): EventAppend {
    return { ...this.streamSpec(jobId), json: JSON.stringify(event) };
  }

  /** Where a job's events go, for a script that builds its event itself. */
  streamSpec(jobId: string): EventStream {
    return {
      stream: this.streamKey(jobId),
      maxLength: String(this.maxLength),
      retentionMs: String(this.retentionMs),
      channel: this.channelPrefix + jobId,
    };
  }

  async read(jobId: string, after: number) {
    const entries = await this.redis.xrange(this.streamKey(jobId), `0-${after + 1}`, '+');
    return entries.map(([id, fields]): SequencedEvent => {
      const at = fields.indexOf('e');
      return { seq: Number(id.split('-')[1]), event: JSON.parse(fields[at + 1]) as ProgressEvent };
    });
  }

  watch(jobId: string, onWake: () => void) {
    let set = this.watchers.get(jobId);
    if (!set) {
      set = new Set();
      this.watchers.set(jobId, set);
      this.subscriber.subscribe(this.channelPrefix + jobId).catch(() => {});
    }
    set.add(onWake);
    this.startFallback();
    return () => {
      const current = this.watchers.get(jobId);
      if (!current?.delete(onWake) || current.size > 0) return;
      this.watchers.delete(jobId);
      this.subscriber.unsubscribe(this.channelPrefix + jobId).catch(() => {});
      if (this.watchers.size === 0) this.stopFallback();
    };
  }

  /** Stops the fallback timer; the connections belong to the caller. */
  close() {
    this.stopFallback();
    this.watchers.clear();
  }

  private wake(jobId: string) {
    for (const fn of this.watchers.get(jobId) ?? []) fn();
  }

  private wakeAll() {
    for (const set of this.watchers.values()) for (const fn of set) fn();
  }

  private startFallback() {
    if (this.fallbackTimer) return;
    this.fallbackTimer = setInterval(() => this.wakeAll(), this.fallbackWakeMs);
    this.fallbackTimer.unref();
  }

  private stopFallback() {
    if (this.fallbackTimer) clearInterval(this.fallbackTimer);
    this.fallbackTimer = null;
  }
}
