import { rmSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import {
  type KafkaBroker,
  type KafkaBrokerInfo,
  kafkaVersion,
  startKafkaBroker,
} from '../../common/dev-services/kafka-broker.ts';
import {
  type RedisServer,
  type RedisServerInfo,
  redisServerVersion,
  startRedisServer,
} from '../../common/dev-services/redis-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    redis: RedisServerInfo;
    kafka: KafkaBrokerInfo;
  }
}

/**
 * Starts one real Redis and one real Kafka broker for the integration or chaos run, on free
 * loopback ports, and hands their addresses to tests through `inject('redis' | 'kafka')` and the
 * SPILLWAY_TEST_REDIS_URL / SPILLWAY_TEST_KAFKA_BROKERS variables. A missing server is a failure
 * with the command that installs it, never a skip.
 */
export default async function setup(project: TestProject) {
  const problems: string[] = [];
  for (const check of [redisServerVersion, () => kafkaVersion()]) {
    try {
      check();
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) {
    throw new Error(`integration tests need real servers:\n  - ${problems.join('\n  - ')}`);
  }

  const started = performance.now();
  const servers: { redis?: RedisServer; kafka?: KafkaBroker } = {};
  const killAll = () => {
    servers.redis?.process.killNow();
    servers.kafka?.process.killNow();
  };
  // A Ctrl-C or crash of vitest must not leave servers behind.
  process.once('exit', killAll);
  const [redis, kafka] = await Promise.allSettled([startRedisServer(), startKafkaBroker()]);
  if (redis.status === 'fulfilled') servers.redis = redis.value;
  if (kafka.status === 'fulfilled') servers.kafka = kafka.value;
  if (redis.status === 'rejected' || kafka.status === 'rejected') {
    killAll();
    const reasons = [redis, kafka].flatMap((r) =>
      r.status === 'rejected' ? [String(r.reason?.message ?? r.reason)] : [],
    );
    throw new Error(`could not start test servers:\n${reasons.join('\n')}`);
  }
  const r = redis.value;
  const k = kafka.value;

  project.provide('redis', r.info);
  project.provide('kafka', k.info);
  process.env.SPILLWAY_TEST_REDIS_URL = r.url;
  process.env.SPILLWAY_TEST_KAFKA_BROKERS = k.brokers;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `[${project.name}] real servers: Redis ${r.info.version} at ${r.url}, Apache Kafka ${k.info.version} (KRaft) at ${k.brokers}; started in ${seconds} s`,
  );

  return async () => {
    await Promise.all([k.stop(), r.stop()]);
    process.off('exit', killAll);
    for (const dir of [r.info.dir, k.info.dir]) rmSync(dir, { recursive: true, force: true });
  };
}
