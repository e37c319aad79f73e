import { describe } from 'vitest';
import { RedisCoordinationStore } from '../../../common/store/redis-coordination-store.ts';
import { redisFixture } from '../redis-fixture.ts';
import { coordinationStoreConformance } from './coordination-store-conformance.ts';

describe('RedisCoordinationStore', () => {
  const redis = redisFixture();
  coordinationStoreConformance(async () => new RedisCoordinationStore(await redis.client(), redis.prefix()));
});
