import {
  type Admin,
  type Consumer as KafkaJsConsumer,
  Kafka,
  type KafkaMessage,
  type logCreator,
  logLevel,
  Partitioners,
  type Producer,
} from 'kafkajs';
import { DependencyError, SpillwayError } from '../errors.ts';
import { type Logger, rateLimitedLog } from '../log.ts';
import type { ConsumeOptions, Consumer, Delivery, Queue, QueueMessage } from './queue.ts';

export interface KafkaQueueOptions {
  brokers: string[];
  clientId?: string;
  partitions: number;
  replication: number;
  minIsr: number;
  log?: Logger;
  /** Consumer session: a worker that stops heartbeating this long loses its partitions. */
  sessionTimeoutMs?: number;
  /**
   * How long a publish that finds the producer idle waits for others to share its send (1 ms by
   * default; 0 sends at once). Each send is a produce request, a socket write and an ack to wait
   * for, so under load fewer, larger sends cost the gateway far less CPU per job.
   */
  lingerMs?: number;
}

interface Pending {
  topic: string;
  message: QueueMessage;
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * kafkajs's backoff shape, stated: left out, kafkajs takes other defaults when NODE_ENV=test
 * (multiplier 1.5 and 2 % jitter, against 2 and 20 %), so the test suite would exercise shorter
 * retries than production runs (a dead broker refused a publish in 0.8 s instead of 2.5–3.2 s).
 */
export const KAFKA_BACKOFF = { factor: 0.2, multiplier: 2 } as const;

/**
 * The job queue on Apache Kafka (kafkajs). Publishing uses the idempotent producer with acks from
 * all in-sync replicas, and batches: publishes that arrive within `lingerMs` of an idle producer,
 * or while a send is in flight, leave together in the next send, and each resolves only once its
 * send was acked. Consumers commit by hand (see KafkaConsumer).
 */
export class KafkaQueue implements Queue {
  private readonly kafka: Kafka;
  private producer: Promise<Producer> | null = null;
  private admin: Promise<Admin> | null = null;
  private readonly consumers = new Set<KafkaConsumer>();
  private pending: Pending[] = [];
  private sending: Promise<void> | null = null;
  private linger: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: KafkaQueueOptions) {
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'spillway',
      brokers: options.brokers,
      connectionTimeout: 2_000,
      requestTimeout: 10_000,
      retry: { ...KAFKA_BACKOFF, retries: 4, initialRetryTime: 100, maxRetryTime: 2_000 },
      logLevel: logLevel.WARN,
      logCreator: pinoLogCreator(options.log),
    });
  }

  /** Waits (bounded) until the brokers answer; the start-up check of distributed mode. */
  async connect(timeoutMs: number): Promise<void> {
    const started = Date.now();
    let last = 'no answer';
    while (Date.now() - started < timeoutMs) {
      try {
        const admin = await this.adminClient();
        await withTimeout(admin.describeCluster(), 3_000);
        return;
      } catch (err) {
        last = (err as Error).message;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    throw new DependencyError(
      'SPILLWAY_KAFKA_BROKERS',
      `Kafka unreachable after ${Math.round(timeoutMs / 1000)} s (${last})`,
    );
  }

  async ensureTopics(topics: string[]) {
    const admin = await this.adminClient();
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((t) => !existing.has(t));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic,
        numPartitions: this.options.partitions,
        replicationFactor: this.options.replication,
        configEntries: [{ name: 'min.insync.replicas', value: String(this.options.minIsr) }],
      })),
    });
  }

  publish(topic: string, message: QueueMessage): Promise<void> {
    if (this.closed) return Promise.reject(new SpillwayError('queue_closed', 'queue is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ topic, message, resolve, reject });
      this.schedule();
    });
  }

  private schedule() {
    if (this.sending || this.linger) return;
    const lingerMs = this.options.lingerMs ?? 1;
    if (lingerMs <= 0) {
      this.flush();
      return;
    }
    this.linger = setTimeout(() => {
      this.linger = null;
      this.flush();
    }, lingerMs);
  }

  /** Starts the send loop unless it runs; resolves when it has drained `pending`. */
  private flush(): Promise<void> {
    this.sending ??= this.sendPending();
    return this.sending;
  }

  private async sendPending() {
    // Starts after flush() stored this promise, so the clearing below cannot come first.
    await null;
    for (;;) {
      // Checked and cleared in one synchronous step: a publish arriving later starts a new loop.
      if (this.pending.length === 0) {
        this.sending = null;
        return;
      }
      const batch = this.pending.splice(0, 500);
      try {
        const producer = await this.producerClient();
        const byTopic = new Map<string, { key: string; value: Buffer; headers: Record<string, string> }[]>();
        for (const p of batch) {
          const list = byTopic.get(p.topic) ?? [];
          list.push({ key: p.message.key, value: p.message.value, headers: p.message.headers });
          byTopic.set(p.topic, list);
        }
        await producer.sendBatch({
          acks: -1,
          timeout: 10_000,
          topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
        });
        for (const p of batch) p.resolve();
      } catch (err) {
        for (const p of batch) p.reject(new SpillwayError('queue_publish_failed', (err as Error).message));
      }
    }
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    await this.ensureTopics(options.topics);
    const consumer = new KafkaConsumer(this.kafka, options, this.options, () =>
      this.consumers.delete(consumer),
    );
    this.consumers.add(consumer);
    await consumer.start();
    return consumer;
  }

  async lag(groupId: string, topics: string[]) {
    const admin = await this.adminClient();
    const committed = await admin.fetchOffsets({ groupId, topics });
    const out: Record<string, number> = {};
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const group = committed.find((c) => c.topic === topic)?.partitions ?? [];
      let lag = 0;
      for (const end of ends) {
        const at = Number(group.find((p) => p.partition === end.partition)?.offset ?? -1);
        lag += Number(end.high) - (at >= 0 ? at : Number(end.low));
      }
      out[topic] = lag;
    }
    return out;
  }

  async healthy() {
    try {
      const admin = await this.adminClient();
      await withTimeout(admin.describeCluster(), 2_000);
      return true;
    } catch {
      return false;
    }
  }

  async close() {
    this.closed = true;
    // Publishes already accepted still go out (or fail) before the producer disconnects.
    if (this.linger) clearTimeout(this.linger);
    this.linger = null;
    if (this.pending.length > 0 || this.sending) await this.flush();
    await Promise.all([...this.consumers].map((c) => c.close()));
    const producer = this.producer;
    const admin = this.admin;
    this.producer = null;
    this.admin = null;
    await Promise.all([
      producer?.then((p) => p.disconnect()).catch(() => {}),
      admin?.then((a) => a.disconnect()).catch(() => {}),
    ]);
  }

  private producerClient(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      this.producer = producer.connect().then(() => producer);
      // A failed connect is retried by the next publish rather than cached forever.
      this.producer.catch(() => {
        this.producer = null;
      });
    }
    return this.producer;
  }

  private adminClient(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin.connect().then(() => admin);
      this.admin.catch(() => {
        this.admin = null;
      });
    }
    return this.admin;
  }
}

/** Delivered offsets of one partition in this consumer's current group generation. */
interface PartitionState {
  topic: string;
  partition: number;
  /** Delivered and not yet committable, in offset order. */
  pending: bigint[];
  acked: Set<bigint>;
  lastDelivered: bigint;
  /** Next offset to commit (Kafka commits "the next offset to read"); -1 when nothing new. */
  commitTo: bigint;
  committed: bigint;
}

/**
 * One group member. Offsets are resolved as messages are handed out, so fetching moves on while
 * work happens outside the fetch loop, but committed only up to the highest offset below which
 * every message was acked. A rebalance drops all partition state: the new owner starts from the
 * committed offset, and acks of deliveries from before the rebalance are ignored.
 */
class KafkaConsumer implements Consumer {
  private consumer: KafkaJsConsumer | null = null;
  private readonly paused = new Set<string>();
  private partitions = new Map<string, PartitionState>();
  private commitTimer: NodeJS.Timeout | null = null;
  private committing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: ConsumeOptions,
    private readonly queueOptions: KafkaQueueOptions,
    private readonly onClose: () => void,
  ) {}

  async start() {
    const consumer = this.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: this.queueOptions.sessionTimeoutMs ?? 10_000,
      rebalanceTimeout: 15_000,
      heartbeatInterval: 1_000,
      // A topic resumed while a fetch long-polls the others waits for that fetch to return.
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
      retry: { ...KAFKA_BACKOFF, retries: 10, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.partitions = new Map();
    });
    await consumer.connect();
    // From the beginning for a new group: jobs published before any worker started are work too.
    await consumer.subscribe({ topics: this.options.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        const state = this.partitionState(batch.topic, batch.partition);
        for (const m of batch.messages) {
          // Undelivered messages stay unresolved, so they are fetched again on resume.
          if (!isRunning() || isStale() || this.closed || this.paused.has(batch.topic)) break;
          this.deliver(state, m);
          resolveOffset(m.offset);
        }
        await heartbeat();
      },
    });
  }

  private partitionState(topic: string, partition: number): PartitionState {
    const key = `${topic}\u0000${partition}`;
    let state = this.partitions.get(key);
    if (!state) {
      state = {
        topic,
        partition,
        pending: [],
        acked: new Set(),
        lastDelivered: -1n,
        commitTo: -1n,
        committed: -1n,
      };
      this.partitions.set(key, state);
    }
    return state;
  }

  private deliver(state: PartitionState, m: KafkaMessage) {
    const offset = BigInt(m.offset);
    if (offset <= state.lastDelivered) return;
    state.lastDelivered = offset;
    state.pending.push(offset);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = String(v);
    const delivery: Delivery = {
      topic: state.topic,
      partition: state.partition,
      offset: m.offset,
      key: m.key?.toString() ?? '',
      value: m.value ?? Buffer.alloc(0),
      headers,
      ack: () => this.ack(state, offset),
    };
    this.options.onMessage(delivery);
  }

  private ack(state: PartitionState, offset: bigint) {
    // A partition state replaced by a rebalance is stale: its messages belong to someone else now.
    if (this.closed || this.partitions.get(`${state.topic}\u0000${state.partition}`) !== state) return;
    state.acked.add(offset);
    let advanced = false;
    while (state.pending.length > 0 && state.acked.has(state.pending[0])) {
      const done = state.pending.shift()!;
      state.acked.delete(done);
      state.commitTo = done + 1n;
      advanced = true;
    }
    if (advanced) this.scheduleCommit();
  }

  private scheduleCommit() {
    if (this.commitTimer) return;
    // Coalesces the acks of a burst into one commit request.
    this.commitTimer = setTimeout(() => {
      this.commitTimer = null;
      this.committing = this.committing.then(() => this.commit());
    }, 20);
  }

  private async commit() {
    const offsets = [...this.partitions.values()]
      .filter((s) => s.commitTo > s.committed)
      .map((s) => ({ state: s, topic: s.topic, partition: s.partition, offset: s.commitTo }));
    if (offsets.length === 0 || !this.consumer) return;
    try {
      await this.consumer.commitOffsets(
        offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset.toString() })),
      );
      for (const o of offsets) if (o.offset > o.state.committed) o.state.committed = o.offset;
    } catch (err) {
      // A commit refused by a rebalance is harmless: the messages are delivered again.
      this.queueOptions.log?.debug({ err: (err as Error).message }, 'kafka commit failed');
    }
  }

  pause(topics: string[]) {
    for (const t of topics) this.paused.add(t);
    this.consumer?.pause(topics.map((topic) => ({ topic })));
  }

  resume(topics: string[]) {
    for (const t of topics) this.paused.delete(t);
    this.consumer?.resume(topics.map((topic) => ({ topic })));
  }

  async close() {
    if (this.closed) return;
    if (this.commitTimer) {
      clearTimeout(this.commitTimer);
      this.commitTimer = null;
    }
    this.committing = this.committing.then(() => this.commit());
    await this.committing;
    this.closed = true;
    this.onClose();
    await this.consumer?.disconnect().catch(() => {});
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** kafkajs logs through pino at warn and above, at most a few lines a second (outages are noisy). */
function pinoLogCreator(log: Logger | undefined): logCreator {
  const limited = rateLimitedLog(2);
  return () =>
    ({ namespace, level, log: entry }) => {
      if (!log || level > logLevel.WARN) return;
      const {
        message,
        timestamp: _t,
        logger: _l,
        ...extra
      } = entry as { message: string; [k: string]: unknown };
      limited((dropped) => {
        const fields = {
          kafka: namespace,
          dropped,
          error: extra.error,
          broker: extra.broker,
          groupId: extra.groupId,
        };
        if (level === logLevel.ERROR) log.error(fields, message);
        else log.warn(fields, message);
      });
    };
}
