import { describe } from 'vitest';
import { RedisJobStore } from '../../../common/store/redis-job-store.ts';
import { redisFixture } from '../redis-fixture.ts';
import { jobStoreConformance } from './job-store-conformance.ts';

describe('RedisJobStore', () => {
  const redis = redisFixture();
  jobStoreConformance(async () => new RedisJobStore(await redis.client(), { prefix: redis.prefix() }));
});
