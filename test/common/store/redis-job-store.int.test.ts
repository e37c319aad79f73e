import { describe } from 'vitest';
import { RedisJobStore } from '../../../common/store/redis-job-store.ts';
import { redisFixture } from '../redis-fixture.ts';
import { realTime } from './expiring.ts';
import { jobStoreConformance } from './job-store-conformance.ts';

describe('RedisJobStore', () => {
  const redis = redisFixture();
  jobStoreConformance(
    async () => new RedisJobStore(await redis.client(), { prefix: redis.prefix() }),
    async (terminalRetentionMs) => ({
      store: new RedisJobStore(await redis.client(), { prefix: redis.prefix(), terminalRetentionMs }),
      elapse: realTime,
    }),
  );
});
