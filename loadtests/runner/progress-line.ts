import type { Recorder } from './recorder.ts';
import { quantile } from './recorder.ts';

/** The one-line live view: stage, offered/admitted/shed per tier in the last second, p50/p99. */
export function progressLine(rec: Recorder, second: number, stage: string): string {
  const b = rec.buckets[second];
  if (!b) return `[${stage}] t=${second}s`;
  const perTier = new Map<string, [number, number, number]>();
  for (const [key, c] of Object.entries(b.byKey)) {
    const tier = key.split('/')[1] ?? key;
    const t = perTier.get(tier) ?? [0, 0, 0];
    perTier.set(tier, [t[0] + c.offered, t[1] + c.admitted, t[2] + c.shed]);
  }
  const tiers = [...perTier].map(([t, [o, a, s]]) => `${t} ${o}/${a}/${s}`).join('  ');
  const lat = Object.values(b.latencies)
    .flat()
    .sort((x, y) => x - y);
  const p = (q: number) => `${Math.round(quantile(lat, q))}ms`;
  return `[${stage}] t=${second}s offered/admitted/shed: ${tiers} | p50 ${p(0.5)} p99 ${p(0.99)} | in flight ${b.inFlight}`;
}
