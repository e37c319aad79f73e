import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigResourceTypes, Kafka, logLevel, type Producer } from 'kafkajs';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { KafkaQueue } from '../../../common/queue/kafka-queue.ts';
import { collector, queueConformance } from './queue-conformance.ts';

const brokers = () => inject('kafka').brokers.split(',');
const kafkajsVersion: string = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve('kafkajs/package.json'), 'utf8'),
).version;

describe('KafkaQueue', () => {
  const queues: KafkaQueue[] = [];
  afterAll(async () => {
    await Promise.all(queues.map((q) => q.close()));
  });
  const makeQueue = async (lingerMs?: number) => {
    const queue = new KafkaQueue({
      brokers: brokers(),
      partitions: 2,
      replication: 1,
      minIsr: 1,
      clientId: 'test',
      lingerMs,
    });
    queues.push(queue);
    return queue;
  };

  queueConformance(() => makeQueue());

  it('sends publishes made within the linger as one produce request, each resolved after its ack', async () => {
    const queue = await makeQueue(30);
    const topic = `linger-${randomBytes(4).toString('hex')}`;
    await queue.ensureTopics([topic]);
    await queue.publish(topic, { key: 'warm', value: Buffer.from('warm'), headers: {} });
    // The producer is private; its instrumentation events report each answered request.
    const producer = await (queue as unknown as { producerClient(): Promise<Producer> }).producerClient();
    let produced = 0;
    const off = producer.on(producer.events.REQUEST, (e) => {
      if (e.payload.apiName === 'Produce') produced++;
    });
    const answeredAtResolve: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        queue
          .publish(topic, { key: `k${i}`, value: Buffer.from(String(i)), headers: {} })
          .then(() => answeredAtResolve.push(produced)),
      ),
    );
    off();
    expect(produced).toBe(1);
    expect(answeredAtResolve).toEqual(Array(20).fill(1));
  });

  it('creates topics with the configured partitions and min.insync.replicas', async () => {
    const queue = await makeQueue();
    const topic = `cfg-${randomBytes(4).toString('hex')}`;
    await queue.ensureTopics([topic]);
    const admin = new Kafka({ brokers: brokers(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(meta.topics[0].partitions).toHaveLength(2);
      const configs = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['min.insync.replicas'] }],
      });
      expect(configs.resources[0].configEntries[0]).toMatchObject({
        configName: 'min.insync.replicas',
        configValue: '1',
      });
    } finally {
      await admin.disconnect();
    }
  });

  it('spreads keys over partitions and keeps per-partition order', async () => {
    const queue = await makeQueue();
    const topic = `spread-${randomBytes(4).toString('hex')}`;
    await queue.ensureTopics([topic]);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        queue.publish(topic, { key: `k${i % 8}`, value: Buffer.from(String(i)), headers: {} }),
      ),
    );
    const c = collector((d) => d.ack());
    const consumer = await queue.consume({ groupId: `g-${topic}`, topics: [topic], onMessage: c.onMessage });
    await c.waitFor(40);
    await consumer.close();
    expect(new Set(c.got.map((d) => d.partition)).size).toBe(2);
    for (let k = 0; k < 8; k++) {
      const values = c.got.filter((d) => d.key === `k${k}`).map((d) => Number(d.value.toString()));
      expect(values).toEqual([...values].sort((a, b) => a - b));
    }
  });
});

// The design asks the suite itself to prove the broker version works with kafkajs.
describe(`Apache Kafka ${inject('kafka').version} (KRaft) with kafkajs ${kafkajsVersion}`, () => {
  it(`kafkajs ${kafkajsVersion} against the real broker: idempotent producer with acks=all, group commit, restart resumes from the committed offset`, async () => {
    const version = inject('kafka').version;
    console.log(`kafkajs proof: Apache Kafka ${version} (KRaft) with kafkajs ${kafkajsVersion}`);
    const kafka = new Kafka({ clientId: 'proof', brokers: brokers(), logLevel: logLevel.NOTHING });
    const topic = `proof-${randomBytes(4).toString('hex')}`;
    const groupId = `proof-group-${topic}`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const sent = await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: 6 }, (_, i) => ({ key: 'k', value: `v${i}` })),
    });
    expect(sent[0].errorCode).toBe(0);

    const readSome = async (count: number, commitThrough: number | null) => {
      const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
      const seen: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachMessage: async ({ message, partition }) => {
              seen.push(message.value!.toString());
              const offset = Number(message.offset);
              if (commitThrough !== null && offset <= commitThrough) {
                await consumer.commitOffsets([{ topic, partition, offset: String(offset + 1) }]);
              }
              if (seen.length === count) resolve();
            },
          })
          .catch(reject);
      });
      await consumer.disconnect();
      return seen;
    };

    expect(await readSome(6, 2)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5']);
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    expect(committed[0].partitions[0].offset).toBe('3');
    // A restarted consumer in the same group resumes at the committed offset, not the beginning.
    expect(await readSome(3, null)).toEqual(['v3', 'v4', 'v5']);
    await producer.disconnect();
    await admin.disconnect();
  });
});
