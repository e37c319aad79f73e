import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, inject } from 'vitest';
import { connectRedis, createRedisClient } from '../../common/store/redis-client.ts';

/**
 * Clients to the run's real Redis (started by test/support/global-setup.ts), closed after the
 * file. Each store gets its own key prefix so tests never see each other's data.
 */
export function redisFixture() {
  const clients: Redis[] = [];
  let shared: Promise<Redis> | null = null;
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.quit().catch(() => c.disconnect())));
  });
  return {
    url: inject('redis').url,
    /** The file's shared command connection. */
    client(): Promise<Redis> {
      shared ??= this.newClient();
      return shared;
    },
    async newClient(options: { subscriber?: boolean } = {}): Promise<Redis> {
      const client = createRedisClient(inject('redis').url, { name: 'test', ...options });
      clients.push(client);
      await connectRedis(client, 'SPILLWAY_TEST_REDIS_URL', 10_000);
      return client;
    },
    prefix: () => `test:${randomBytes(6).toString('hex')}:`,
  };
}
