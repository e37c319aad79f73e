import { join } from 'node:path';
import { DirBlobStore } from './blob/dir-blob-store.ts';
import type { Config } from './config.ts';
import { ConfigError } from './errors.ts';
import type { Infra } from './infra.ts';
import type { Logger } from './log.ts';
import { KafkaQueue } from './queue/kafka-queue.ts';
import { connectRedis, createRedisClient } from './store/redis-client.ts';
import { RedisAccountStore } from './store/redis-account-store.ts';
import { RedisCoordinationStore } from './store/redis-coordination-store.ts';
import { RedisEventLog } from './store/redis-event-log.ts';
import { checkRedisDurability } from './store/redis-durability.ts';
import { RedisJobStore } from './store/redis-job-store.ts';

export interface DistributedInfraOptions {
  /** How long to wait for Redis and Kafka at start before giving up with a DependencyError. */
  connectTimeoutMs?: number;
  clientId?: string;
}

/**
 * The distributed mode's adapters: Kafka for the queue, Redis for records, events, accounts and
 * coordination, a directory for images. Both servers are checked at start (bounded wait); an
 * unreachable one is a DependencyError naming its setting. After start, outages are survived:
 * clients reconnect forever and operations fail fast meanwhile.
 */
export async function createDistributedInfra(
  config: Config,
  log: Logger,
  options: DistributedInfraOptions = {},
): Promise<Infra> {
  if (!config.SPILLWAY_REDIS_URL) throw new ConfigError('SPILLWAY_REDIS_URL', 'required in distributed mode');
  if (!config.SPILLWAY_KAFKA_BROKERS)
    throw new ConfigError('SPILLWAY_KAFKA_BROKERS', 'required in distributed mode');
  const timeoutMs = options.connectTimeoutMs ?? 10_000;

  const redis = createRedisClient(config.SPILLWAY_REDIS_URL, { name: 'store', log });
  const subscriber = createRedisClient(config.SPILLWAY_REDIS_URL, { name: 'wakeups', subscriber: true, log });
  const queue = new KafkaQueue({
    brokers: config.SPILLWAY_KAFKA_BROKERS.split(','),
    clientId: options.clientId ?? 'spillway',
    partitions: config.SPILLWAY_KAFKA_PARTITIONS,
    replication: config.SPILLWAY_KAFKA_REPLICATION,
    minIsr: config.SPILLWAY_KAFKA_MIN_ISR,
    log,
  });
  try {
    await Promise.all([
      connectRedis(redis, 'SPILLWAY_REDIS_URL', timeoutMs),
      connectRedis(subscriber, 'SPILLWAY_REDIS_URL', timeoutMs),
      queue.connect(timeoutMs),
    ]);
  } catch (err) {
    redis.disconnect();
    subscriber.disconnect();
    await queue.close().catch(() => {});
    throw err;
  }

  const durability = await checkRedisDurability(redis);
  if (durability?.warning) log.warn({ setting: 'SPILLWAY_REDIS_URL', ...durability }, durability.warning);

  const events = new RedisEventLog(redis, subscriber);
  return {
    mode: 'distributed',
    queue,
    jobs: new RedisJobStore(redis),
    events,
    accounts: new RedisAccountStore(redis),
    coord: new RedisCoordinationStore(redis),
    blobs: new DirBlobStore(join(config.SPILLWAY_DATA_DIR, 'blobs')),
    redis,
    close: async () => {
      events.close();
      await queue.close();
      await Promise.all([redis, subscriber].map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}
