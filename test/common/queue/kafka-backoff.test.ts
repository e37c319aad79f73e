import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';

const seen = vi.hoisted(() => ({ configs: [] as { retry?: Record<string, number> }[] }));

vi.mock('kafkajs', async (original) => {
  const real = await original<typeof import('kafkajs')>();
  class RecordingKafka extends real.Kafka {
    constructor(config: ConstructorParameters<typeof real.Kafka>[0]) {
      super(config);
      seen.configs.push(config as { retry?: Record<string, number> });
    }
  }
  return { ...real, Kafka: RecordingKafka };
});

const { KafkaQueue } = await import('../../../common/queue/kafka-queue.ts');

describe('kafkajs backoff', () => {
  it("gives the queue's client production's backoff shape even under NODE_ENV=test", () => {
    // kafkajs reads NODE_ENV once and, under "test" (vitest sets it), backs off 1.5× with 2 %
    // jitter wherever a client leaves the shape out; the suite would then retry unlike production.
    expect(process.env.NODE_ENV).toBe('test');
    const production = createRequire(import.meta.url)('kafkajs/src/retry/defaults.js');
    void new KafkaQueue({ brokers: ['127.0.0.1:1'], partitions: 1, replication: 1, minIsr: 1 }).close();
    const retry = seen.configs.at(-1)?.retry;
    expect(retry).toMatchObject({ factor: production.factor, multiplier: production.multiplier });
  });
});
