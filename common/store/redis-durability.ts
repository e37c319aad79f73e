import type { Redis } from 'ioredis';

export interface RedisDurability {
  appendonly: boolean;
  appendfsync: string | null;
  /** Why accepted jobs could be lost on a Redis crash, or null when AOF is on. */
  warning: string | null;
}

/**
 * Reads Redis's persistence settings. Spillway's no-lost-job guarantee assumes AOF; a server
 * without it is allowed (tests, caches) but said loudly at start. Managed Redis that forbids
 * CONFIG yields an unknown (null) answer rather than an error.
 */
export async function checkRedisDurability(redis: Redis): Promise<RedisDurability | null> {
  try {
    const [, appendonly] = (await redis.config('GET', 'appendonly')) as string[];
    const [, appendfsync] = (await redis.config('GET', 'appendfsync')) as string[];
    const on = appendonly === 'yes';
    return {
      appendonly: on,
      appendfsync: appendfsync ?? null,
      warning: on
        ? null
        : 'Redis runs without appendonly: accepted jobs and their records may be lost if Redis crashes (set appendonly yes)',
    };
  } catch {
    return null;
  }
}
