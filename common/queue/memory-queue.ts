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
 * One partition per topic; within a group each message goes to one consumer.
 */
export class MemoryQueue implements Queue {
  private readonly topics = new Map<string, QueueMessage[]>();
  private readonly groups = new Map<string, Map<string, GroupTopic>>();
  private consumers: MemoryConsumer[] = [];
  private pumpScheduled = false;
  private roundRobin = 0;

  async ensureTopics(topics: string[]) {
    for (const t of topics) if (!this.topics.has(t)) this.topics.set(t, []);
  }

  async publish(topic: string, message: QueueMessage) {
    let log = this.topics.get(topic);
    if (!log) {
      log = [];
      this.topics.set(topic, log);
    }
    log.push({ key: message.key, value: Buffer.from(message.value), headers: { ...message.headers } });
    this.schedulePump();
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    const consumer = new MemoryConsumer(this, options);
    this.consumers.push(consumer);
    await this.ensureTopics(options.topics);
    this.schedulePump();
    return consumer;
  }

  async lag(groupId: string, topics: string[]) {
    const out: Record<string, number> = {};
    for (const t of topics) {
      const published = this.topics.get(t)?.length ?? 0;
      out[t] = published - (this.groups.get(groupId)?.get(t)?.committed ?? 0);
    }
    return out;
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
      gt = { next: 0, committed: 0, acked: new Set(), inflight: new Map(), redeliver: [] };
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

  private deliverTopic(groupId: string, topic: string, log: QueueMessage[], members: MemoryConsumer[]) {
    const gt = this.groupTopic(groupId, topic);
    while (true) {
      const offset = gt.redeliver.length > 0 ? gt.redeliver.shift()! : gt.next < log.length ? gt.next++ : -1;
      if (offset < 0) return;
      const consumer = members[this.roundRobin++ % members.length];
      gt.inflight.set(offset, consumer);
      consumer.options.onMessage(this.delivery(groupId, topic, offset, log[offset], consumer));
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
    while (gt.acked.has(gt.committed)) {
      gt.acked.delete(gt.committed);
      gt.committed++;
    }
  }
}
