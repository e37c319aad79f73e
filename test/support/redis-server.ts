import { inject } from 'vitest';
import { RedisServer } from '../../common/dev-services/redis-server.ts';

/**
 * The Redis the global setup started for this run, with kill/stop/restart controls that work
 * from a test worker (the pid lives in the server's directory).
 */
export function sharedRedis(): RedisServer {
  return new RedisServer(inject('redis'));
}
