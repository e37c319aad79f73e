/**
 * The job queue: durable, at-least-once, one topic per lane × tier.
 * Implementations: KafkaQueue (kafkajs) and MemoryQueue (embedded mode, unit tests). Both pass
 * test/common/queue/queue-conformance.ts.
 */
export interface QueueMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

export interface Delivery extends QueueMessage {
  topic: string;
  partition: number;
  offset: string;
  /**
   * Marks the message processed. Offsets are committed in order per partition: an offset is
   * committed only once every earlier message of that partition was acked, so a crash redelivers
   * everything that was not finished.
   */
  ack(): void;
}

export interface ConsumeOptions {
  groupId: string;
  topics: string[];
  /** Called for each delivered message; the consumer keeps delivering until paused. */
  onMessage(delivery: Delivery): void;
}

export interface Consumer {
  /** Stop fetching these topics (deliveries already made stay valid). */
  pause(topics: string[]): void;
  resume(topics: string[]): void;
  /** Leave the group; unacked messages are redelivered to the group's other members. */
  close(): Promise<void>;
}

export interface Queue {
  /** Create topics if missing (idempotent). */
  ensureTopics(topics: string[]): Promise<void>;
  /** Resolves once the message is durable (Kafka: acks from all in-sync replicas). */
  publish(topic: string, message: QueueMessage): Promise<void>;
  consume(options: ConsumeOptions): Promise<Consumer>;
  /** Messages published but not yet committed by the group, per topic (backlog / lag). */
  lag(groupId: string, topics: string[]): Promise<Record<string, number>>;
  /** True when publish would currently work (for /readyz). */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}
