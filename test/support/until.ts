/**
 * Polls `probe` until it returns a truthy value and returns that value, or fails after
 * `timeoutMs`. For effects a shared, noisy machine cannot time (a worker claiming, a leader
 * publishing); never for asserting how long something took.
 */
export async function until<T>(
  probe: () => T | null | undefined | false | Promise<T | null | undefined | false>,
  timeoutMs = 10_000,
  everyMs = 10,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
