import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRedisClient } from '../../../common/store/redis-client.ts';
import { checkRedisDurability } from '../../../common/store/redis-durability.ts';

describe('Redis durability check at start', () => {
  const redis = createRedisClient(inject('redis').url, { name: 'durability-test' });
  let before = 'yes';

  beforeAll(async () => {
    await redis.connect();
    before = ((await redis.config('GET', 'appendonly')) as string[])[1];
  });

  afterAll(async () => {
    await redis.config('SET', 'appendonly', before);
    await redis.quit();
  });

  it('is silent when AOF is on', async () => {
    await redis.config('SET', 'appendonly', 'yes');
    const d = await checkRedisDurability(redis);
    expect(d?.appendonly).toBe(true);
    expect(d?.warning).toBeNull();
  });

  it('warns when AOF is off', async () => {
    await redis.config('SET', 'appendonly', 'no');
    const d = await checkRedisDurability(redis);
    expect(d?.appendonly).toBe(false);
    expect(d?.warning).toMatch(/appendonly/);
  });
});
