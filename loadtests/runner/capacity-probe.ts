import type { MixEntry } from '../campaign-schema.ts';
import type { ImagesClient } from './http-client.ts';

/**
 * Measures what the target completes per second when kept busy: a closed loop of `concurrency`
 * paid sync generations. Campaigns with `rateUnit: capacity` multiply their rates by it, so the
 * same file means "2× overload" on any machine.
 */
export async function probeCapacity(
  client: ImagesClient,
  entry: MixEntry,
  apiKeys: () => string,
  o: { concurrency: number; warmupMs: number; measureMs: number },
): Promise<number> {
  const start = performance.now();
  const measureFrom = start + o.warmupMs;
  const end = measureFrom + o.measureMs;
  let completed = 0;
  const loop = async () => {
    while (performance.now() < end) {
      const out = await client.attempt({
        entry,
        apiKey: apiKeys(),
        prompt: 'capacity probe: a red cube',
        retryCount: 0,
        deadline: end + 30_000,
        pollIntervalMs: 200,
      });
      const now = performance.now();
      if (out.kind === 'completed' && now >= measureFrom && now <= end) completed++;
      if (out.kind !== 'completed') await new Promise((r) => setTimeout(r, 50));
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, loop));
  return completed / (o.measureMs / 1000);
}
