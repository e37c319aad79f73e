import { DependencyError, SpillwayError } from '../errors.ts';
import type { FaultSwitches } from '../fault-switches.ts';
import type { ConsumeOptions, Consumer, Queue, QueueMessage } from './queue.ts';

const WHY = 'broker unreachable (restart-kafka fault injected by the load-test runner)';

/**
 * How long KafkaQueue's producer, with its retry settings, keeps trying a publish against a broker
 * that is gone before it refuses it: 2.5–3.2 s measured against a killed broker (four retries
 * backing off from 100 ms, doubling, 20 % jitter, each after a failed connect). The chaos suite
 * (test/common/outage.chaos.test.ts) measures the real one and holds it within 0.5–2.5× of this.
 */
export const KAFKA_PUBLISH_RETRY_MS = 2_500;

/**
 * A queue that goes down when the fault switches say Kafka is down, the way KafkaQueue does while
 * its broker is gone: a publish is held for as long as kafkajs retries it (`publishRetryMs`),
 * goes through if the broker is back by then and is refused (queue_publish_failed) if not; other
 * calls fail at once, healthy() is false, and no message is delivered.
 * When the broker is back every consumer joins its group again, so what it had not acked is
 * delivered again and its acks of earlier deliveries are void, as after Kafka's rebalance (see
 * the broker-restart test in test/common/outage.chaos.test.ts).
 */
export class SwitchedQueue implements Queue {
  private readonly consumers = new Set<SwitchedConsumer>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly inner: Queue,
    private readonly switches: FaultSwitches,
    private readonly publishRetryMs = KAFKA_PUBLISH_RETRY_MS,
  ) {
    this.unsubscribe = switches.onQueueChange((down) => {
      for (const c of this.consumers) {
        if (down) c.halt();
        else void c.rejoin();
      }
    });
  }

  private down(): boolean {
    return this.switches.queueDown();
  }

  ensureTopics(topics: string[]): Promise<void> {
    return this.down() ? Promise.reject(new DependencyError('queue', WHY)) : this.inner.ensureTopics(topics);
  }

  async publish(topic: string, message: QueueMessage): Promise<void> {
    if (this.down() && !(await this.backWithin(this.publishRetryMs)))
      throw new SpillwayError('queue_publish_failed', WHY);
    return this.inner.publish(topic, message);
  }

  /** Whether the broker comes back within `ms`, as a retrying producer would find out. */
  private backWithin(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        stop();
        resolve(false);
      }, ms);
      const stop = this.switches.onQueueChange((down) => {
        if (down) return;
        clearTimeout(timer);
        stop();
        resolve(true);
      });
    });
  }

  async consume(options: ConsumeOptions): Promise<Consumer> {
    if (this.down()) throw new DependencyError('queue', WHY);
    const consumer: SwitchedConsumer = new SwitchedConsumer(
      this.inner,
      options,
      await this.inner.consume(options),
      () => this.down(),
      () => this.consumers.delete(consumer),
    );
    this.consumers.add(consumer);
    if (this.down()) consumer.halt();
    return consumer;
  }

  lag(groupId: string, topics: string[]): Promise<Record<string, number>> {
    return this.down() ? Promise.reject(new DependencyError('queue', WHY)) : this.inner.lag(groupId, topics);
  }

  async healthy(): Promise<boolean> {
    return !this.down() && (await this.inner.healthy());
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.inner.close();
  }
}

/** One group member; across an outage it is a new member of the inner queue's group each time. */
class SwitchedConsumer implements Consumer {
  /** Topics its user paused, kept paused across a rejoin. */
  private readonly paused = new Set<string>();
  private closed = false;

  constructor(
    private readonly inner: Queue,
    private readonly options: ConsumeOptions,
    private current: Consumer,
    private readonly queueDown: () => boolean,
    private readonly onClose: () => void,
  ) {}

  pause(topics: string[]): void {
    for (const t of topics) this.paused.add(t);
    this.current.pause(topics);
  }

  resume(topics: string[]): void {
    for (const t of topics) this.paused.delete(t);
    if (!this.queueDown()) this.current.resume(topics);
  }

  /** The broker is gone: nothing more is fetched. */
  halt(): void {
    this.current.pause(this.options.topics);
  }

  /**
   * The broker is back: join as a new member, then leave as the old one, whose unacked deliveries
   * the group hands out again. A rejoin that fails leaves the old member fetching again.
   */
  async rejoin(): Promise<void> {
    if (this.closed) return;
    let next: Consumer;
    try {
      next = await this.inner.consume(this.options);
    } catch {
      this.resumeUnpaused(this.current);
      return;
    }
    if (this.closed) {
      await next.close();
      return;
    }
    const previous = this.current;
    this.current = next;
    if (this.queueDown()) next.pause(this.options.topics);
    else if (this.paused.size > 0) next.pause([...this.paused]);
    // Leaving can only fail on a queue already closing; the rejoin itself has happened.
    await previous.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.onClose();
    await this.current.close();
  }

  private resumeUnpaused(consumer: Consumer): void {
    if (this.queueDown()) return;
    const topics = this.options.topics.filter((t) => !this.paused.has(t));
    if (topics.length > 0) consumer.resume(topics);
  }
}
