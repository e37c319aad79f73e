import type { ConsumeOptions, Consumer, Delivery, Queue, QueueMessage } from './queue.ts';

interface GroupTopic {
  /** Next offset never delivered yet. */
  next: number;
  /** Lowest offset not yet acked (everything below is committed). */
  committed: number;
  acked: Set<number>;
  /** Delivered and unacked offsets, by the consumer holding them. */
  inflight: Map<number, MemoryConsumer>;
  /** Offsets to deliver again because their consumer left. */
  redeliver: number[];
}

/**
 * One topic's messages from offset `start` on. What every group has committed is released, so a
 * topic holds only its unfinished messages while offsets keep counting from the first publish.
 */
class TopicLog {
  /** Offset of messages[0]. */
  private base = 0;
  /** Slots before this index are released: cleared, and cut off once they are half the array. */
  private head = 0;
  private messages: (QueueMessage | undefined)[] = [];

  /** The lowest offset still held. */
  get start() {
    return this.base + this.head;
  }

  /** The offset the next message gets. */
  get end() {
    return this.base + this.messages.length;
  }

  get held() {
    return this.messages.length - this.head;
  }

  push(message: QueueMessage) {
    this.messages.push(message);
  }

  at(offset: number): QueueMessage {
    const m = this.messages[offset - this.base];
    if (!m) throw new Error(`offset ${offset} was released`);
    return m;
  }

  releaseBelow(offset: number) {
    while (this.start < offset) this.messages[this.head++] = undefined;
    // Cutting only at half keeps a release O(1) amortised: each cut copies no more than it drops.
    if (this.head > 0 && this.head * 2 >= this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
}

class MemoryConsumer implements Consumer {
  readonly paused = new Set<string>();
  closed = false;

  constructor(
    readonly queue: MemoryQueue,
    readonly options: ConsumeOptions,
  ) {}

  pause(topics: string[]) {
    for (const t of topics) this.paused.add(t);
  }

  resume(topics: string[]) {
    for (const t of topics) this.paused.delete(t);
    this.queue.schedulePump();
  }

  async close() {
    this.closed = true;
    this.queue.leave(this);
  }
}

/**
 * In-process queue for the embedded mode, with Kafka's guarantees where they matter: messages stay
 * until committed, offsets commit in order, a leaving consumer's unacked messages are redelivered.
 * One partition per topic; within a group each message goes to one consumer. A message committed
 * by every group that subscribed to its topic is released (Kafka would keep it until its retention
 * ran out; nothing here reads it again), so memory holds only unfinished messages.
 */
export class MemoryQueue implements Queue {
  private readonly topics = new Map<string, TopicLog>();
  private readonly groups = new Map<string, Map<string, GroupTopic>>();
  private consumers: MemoryConsumer[] = [];
  private pumpScheduled = false;
  private roundRobin = 0;

  private topic(name: string): TopicLog {
    let log = this.topics.get(name);
    if (!log) {
      log = new TopicLog();
      this.topics.set(name, log);
    }
    return log;
  }

  async ensureTopics(topics: string[]) {
    for (const t of topics) this.topic(t);
  }

  async publish(topic: string, message: QueueMessage) {
    this.topic(topic).push({
      key: message.key,
      value: Buffer.from(message.value),
      headers: { ...message.headers },
    });
    this.schedulePump();
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    const consumer = new MemoryConsumer(this, options);
    this.consumers.push(consumer);
    // Subscribing makes the group hold its topics from here on, even while it is paused.
    for (const t of options.topics) this.groupTopic(options.groupId, t);
    this.schedulePump();
    return consumer;
  }

  async lag(groupId: string, topics: string[]) {
    const out: Record<string, number> = {};
    for (const t of topics) {
      const log = this.topics.get(t);
      // A group that never committed lags by everything still held, as Kafka's (high − low).
      out[t] = (log?.end ?? 0) - (this.groups.get(groupId)?.get(t)?.committed ?? log?.start ?? 0);
    }
    return out;
  }

  /** Messages a topic still holds (published and not yet committed by every group), for tests. */
  held(topic: string): number {
    return this.topics.get(topic)?.held ?? 0;
  }

  async healthy() {
    return true;
  }

  async close() {
    for (const c of this.consumers) c.closed = true;
    this.consumers = [];
  }

  leave(consumer: MemoryConsumer) {
    this.consumers = this.consumers.filter((c) => c !== consumer);
    const groups = this.groups.get(consumer.options.groupId);
    for (const gt of groups?.values() ?? []) {
      for (const [offset, holder] of gt.inflight) {
        if (holder !== consumer) continue;
        gt.inflight.delete(offset);
        gt.redeliver.push(offset);
      }
      gt.redeliver.sort((a, b) => a - b);
    }
    this.schedulePump();
  }

  schedulePump() {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private groupTopic(groupId: string, topic: string): GroupTopic {
    let g = this.groups.get(groupId);
    if (!g) {
      g = new Map();
      this.groups.set(groupId, g);
    }
    let gt = g.get(topic);
    if (!gt) {
      // A new group starts at the oldest message still held, as Kafka's `fromBeginning` does.
      const start = this.topic(topic).start;
      gt = { next: start, committed: start, acked: new Set(), inflight: new Map(), redeliver: [] };
      g.set(topic, gt);
    }
    return gt;
  }

  private pump() {
    for (const [topic, log] of this.topics) {
      const byGroup = new Map<string, MemoryConsumer[]>();
      for (const c of this.consumers) {
        if (c.closed || c.paused.has(topic) || !c.options.topics.includes(topic)) continue;
        const list = byGroup.get(c.options.groupId) ?? [];
        list.push(c);
        byGroup.set(c.options.groupId, list);
      }
      for (const [groupId, members] of byGroup) this.deliverTopic(groupId, topic, log, members);
    }
  }

  private deliverTopic(groupId: string, topic: string, log: TopicLog, members: MemoryConsumer[]) {
    const gt = this.groupTopic(groupId, topic);
    while (true) {
      const offset = gt.redeliver.length > 0 ? gt.redeliver.shift()! : gt.next < log.end ? gt.next++ : -1;
      if (offset < 0) return;
      const consumer = members[this.roundRobin++ % members.length];
      gt.inflight.set(offset, consumer);
      consumer.options.onMessage(this.delivery(groupId, topic, offset, log.at(offset), consumer));
      // A handler may pause its topic during onMessage: stop delivering to a paused group.
      if (members.every((m) => m.paused.has(topic) || m.closed)) return;
    }
  }

  private delivery(
    groupId: string,
    topic: string,
    offset: number,
    m: QueueMessage,
    consumer: MemoryConsumer,
  ): Delivery {
    return {
      topic,
      partition: 0,
      offset: String(offset),
      key: m.key,
      value: Buffer.from(m.value),
      headers: { ...m.headers },
      ack: () => this.ack(groupId, topic, offset, consumer),
    };
  }

  private ack(groupId: string, topic: string, offset: number, consumer: MemoryConsumer) {
    const gt = this.groupTopic(groupId, topic);
    // An ack from a consumer that already left is void: the message was handed to someone else.
    if (gt.inflight.get(offset) !== consumer) return;
    gt.inflight.delete(offset);
    gt.acked.add(offset);
    const before = gt.committed;
    while (gt.acked.has(gt.committed)) {
      gt.acked.delete(gt.committed);
      gt.committed++;
    }
    if (gt.committed > before) this.release(topic);
  }

  /** Drops the messages of `topic` that every group subscribed to it has committed. */
  private release(topic: string) {
    let lowest = Number.POSITIVE_INFINITY;
    for (const g of this.groups.values()) lowest = Math.min(lowest, g.get(topic)?.committed ?? lowest);
    if (Number.isFinite(lowest)) this.topic(topic).releaseBelow(lowest);
  }
}
