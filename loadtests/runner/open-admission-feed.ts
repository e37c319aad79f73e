import { openAdmissionState } from '../../bin/open-admission.ts';
import { loadPolicyDir } from '../../common/policy/loader.ts';
import { StaticPolicySource } from '../../common/policy/policy-source.ts';
import { connectRedis, createRedisClient } from '../../common/store/redis-client.ts';
import { RedisCoordinationStore } from '../../common/store/redis-coordination-store.ts';

/**
 * The no-shedding baseline of a distributed stack: `spillway start controller` has no "off"
 * mode, so the runner itself publishes the always-open admission state that SPILLWAY_CONTROLLER=off
 * publishes in embedded mode (bin/open-admission.ts), once a second, into the stack's Redis.
 * Gateways then queue everything FIFO, as with no controller in front of the queue.
 */
export async function startOpenAdmissionFeed(
  redisUrl: string,
  policyDir: string,
): Promise<{ close(): Promise<void> }> {
  const policy = new StaticPolicySource(await loadPolicyDir(policyDir));
  const redis = createRedisClient(redisUrl, { name: 'loadtest-open-admission' });
  await connectRedis(redis, 'SPILLWAY_REDIS_URL', 10_000);
  const coord = new RedisCoordinationStore(redis);
  let version = 0;
  // A failed publish (Redis restarting) is retried by the next tick; the state's ttl covers it.
  const publish = () =>
    coord.publishAdmission(openAdmissionState(policy, ++version, Date.now())).catch(() => {});
  await publish();
  const timer = setInterval(() => void publish(), 1000);
  return {
    close: async () => {
      clearInterval(timer);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
