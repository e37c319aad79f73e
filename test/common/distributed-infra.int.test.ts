import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../common/config.ts';
import { freePort } from '../../common/dev-services/free-port.ts';
import { createDistributedInfra } from '../../common/distributed-infra.ts';
import { DependencyError } from '../../common/errors.ts';
import { createLogger } from '../../common/log.ts';
import { collector } from './queue/queue-conformance.ts';
import { queuedRecord } from './store/job-fixtures.ts';

const log = createLogger('test', 'silent');
const dataDir = mkdtempSync(join(tmpdir(), 'spillway-infra-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const config = (overrides: Record<string, string> = {}) =>
  loadConfig({
    SPILLWAY_MODE: 'distributed',
    SPILLWAY_REDIS_URL: inject('redis').url,
    SPILLWAY_KAFKA_BROKERS: inject('kafka').brokers,
    SPILLWAY_KAFKA_PARTITIONS: '2',
    SPILLWAY_DATA_DIR: dataDir,
    ...overrides,
  });

describe('createDistributedInfra', () => {
  it('wires Kafka, Redis and a blob directory that work together', async () => {
    const infra = await createDistributedInfra(config(), log);
    try {
      expect(infra.mode).toBe('distributed');
      expect(await infra.redis?.ping()).toBe('PONG');
      const record = queuedRecord();
      expect((await infra.jobs.create(record)).created).toBe(true);
      const topic = `infra-${record.id}`;
      await infra.queue.ensureTopics([topic]);
      await infra.queue.publish(topic, { key: record.id, value: Buffer.from(record.id), headers: {} });
      const c = collector((d) => d.ack());
      const consumer = await infra.queue.consume({
        groupId: `g-${topic}`,
        topics: [topic],
        onMessage: c.onMessage,
      });
      await c.waitFor(1);
      await consumer.close();
      await infra.blobs.put(`jobs/${record.id}`, Buffer.from('png'), 'image/png');
      expect((await infra.blobs.get(`jobs/${record.id}`))?.contentType).toBe('image/png');
    } finally {
      await infra.close();
    }
  });

  it('names SPILLWAY_REDIS_URL when Redis cannot be reached at start', async () => {
    const url = `redis://127.0.0.1:${await freePort()}`;
    const err = await createDistributedInfra(config({ SPILLWAY_REDIS_URL: url }), log, {
      connectTimeoutMs: 1_500,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DependencyError);
    expect(err).toMatchObject({ setting: 'SPILLWAY_REDIS_URL', code: 'dependency_unavailable' });
  });

  it('names SPILLWAY_KAFKA_BROKERS when Kafka cannot be reached at start', async () => {
    const brokers = `127.0.0.1:${await freePort()}`;
    const err = await createDistributedInfra(config({ SPILLWAY_KAFKA_BROKERS: brokers }), log, {
      connectTimeoutMs: 1_500,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(DependencyError);
    expect(err).toMatchObject({ setting: 'SPILLWAY_KAFKA_BROKERS' });
  });
});
