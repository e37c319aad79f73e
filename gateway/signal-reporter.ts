import type { GatewaySignal } from '../common/contracts/index.ts';
import type { Infra } from '../common/infra.ts';
import type { Logger } from '../common/log.ts';
import type { AuthClient } from './auth-client.ts';
import type { TrafficCounters } from './gateway-context.ts';

export const SIGNAL_INTERVAL_MS = 1000;
const SIGNAL_TTL_MS = 5000;

/** Reports this gateway's saturation signal (auth health, store latency, traffic) every second. */
export function startSignalReporter(
  id: string,
  infra: Infra,
  auth: AuthClient,
  counters: TrafficCounters,
  log: Logger,
  intervalMs = SIGNAL_INTERVAL_MS,
): { stop(): void; reportNow(): Promise<void> } {
  let storeLatencyMs = 0;
  const reportNow = async () => {
    try {
      storeLatencyMs = await infra.jobs.ping();
    } catch {
      storeLatencyMs = SIGNAL_TTL_MS;
    }
    const a = auth.drainStats();
    const misses = a.lookups - a.hits;
    const signal: GatewaySignal = {
      source: 'gateway',
      id,
      at: Date.now(),
      authLatencyMs: a.latencyMsAvg,
      authErrorRate: misses > 0 ? Math.min(1, a.errors / misses) : 0,
      authCacheHitRate: a.lookups > 0 ? a.hits / a.lookups : 1,
      storeLatencyMs,
      offered: { ...counters.offered },
      admitted: { ...counters.admitted },
      shed: { ...counters.shed },
      signups: counters.signups,
    };
    try {
      await infra.coord.reportSignal(signal, SIGNAL_TTL_MS);
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'signal report failed');
    }
  };
  const timer = setInterval(() => void reportNow(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), reportNow };
}
