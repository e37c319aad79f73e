import type { GatewaySignal, WorkerSignal } from '../common/contracts/index.ts';
import type { Policy } from '../common/policy/schema.ts';
import type { Dependency, Saturation } from './observation.ts';

/**
 * Maps each dependency's signals to a saturation against its policy target (1 = at target).
 * Only signals younger than saturation.signalMaxAge count; with none the saturation is unknown.
 */
export function dependencySaturations(
  workers: WorkerSignal[],
  gateways: GatewaySignal[],
  storePingMs: number | null,
  queueWaitRatio: number | null,
  policy: Policy,
  now: number,
): Record<Dependency, Saturation> {
  const t = policy.saturation;
  const fresh = <S extends { at: number }>(list: S[]) => list.filter((s) => now - s.at <= t.signalMaxAge);
  const w = fresh(workers);
  const g = fresh(gateways);
  const youngest = (list: { at: number }[]) =>
    list.length ? Math.min(...list.map((s) => now - s.at)) : null;
  const max = (xs: number[]) => (xs.length ? Math.max(...xs) : null);
  const ratio = (measured: number | null, target: number) => (measured === null ? null : measured / target);

  const passRatio = max(
    w.filter((s) => s.baselinePassMs > 0).map((s) => s.passLatencyEwmaMs / s.baselinePassMs),
  );
  const slots = w.reduce((a, s) => a + s.slotsTotal, 0);
  const use = slots > 0 ? w.reduce((a, s) => a + s.slotsBusy, 0) / slots : null;
  // The GPU is saturated when its passes slow down past the target ratio, or all its slots are taken.
  const gpu = Math.max(ratio(passRatio, t.passLatencyRatio) ?? 0, ratio(use, t.gpuUtilization) ?? 0);

  const storeSamples = [...w.map((s) => s.storeLatencyMs), ...g.map((s) => s.storeLatencyMs)];
  if (storePingMs !== null) storeSamples.push(storePingMs);
  const store = max(storeSamples);

  const authLatency = max(g.map((s) => s.authLatencyMs));
  const authErrors = max(g.map((s) => s.authErrorRate));
  const auth =
    authLatency === null ? null : Math.max(authLatency / t.authLatency, (authErrors ?? 0) / t.authErrorRate);

  const blob = max(w.map((s) => s.blobWriteMs));
  return {
    gpu: {
      value: w.length ? gpu : null,
      measured: passRatio,
      target: t.passLatencyRatio,
      unit: '× idle pass',
      ageMs: youngest(w),
    },
    queue: { value: queueWaitRatio, measured: queueWaitRatio, target: 1, unit: 'wait / max wait', ageMs: 0 },
    store: {
      value: ratio(store, t.storeLatency),
      measured: store,
      target: t.storeLatency,
      unit: 'ms',
      ageMs: storePingMs !== null ? 0 : youngest([...w, ...g]),
    },
    auth: { value: auth, measured: authLatency, target: t.authLatency, unit: 'ms', ageMs: youngest(g) },
    blob: {
      value: ratio(blob, t.blobLatency),
      measured: blob,
      target: t.blobLatency,
      unit: 'ms',
      ageMs: youngest(w),
    },
  };
}
