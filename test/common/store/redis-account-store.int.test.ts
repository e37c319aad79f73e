import { describe } from 'vitest';
import { RedisAccountStore } from '../../../common/store/redis-account-store.ts';
import { redisFixture } from '../redis-fixture.ts';
import { accountStoreConformance } from './account-store-conformance.ts';

describe('RedisAccountStore', () => {
  const redis = redisFixture();
  accountStoreConformance(async () => new RedisAccountStore(await redis.client(), redis.prefix()));
});
