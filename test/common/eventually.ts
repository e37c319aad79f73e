import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `check` until it stops throwing, or rethrows its last failure after `timeoutMs`. For
 * asynchronous effects (commits, group joins) whose timing a shared machine cannot promise.
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(everyMs);
    }
  }
}
