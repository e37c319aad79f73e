import { z } from 'zod';

/** Reported by each inference worker every second. */
export const WorkerSignal = z.object({
  source: z.literal('worker'),
  id: z.string(),
  at: z.number().int(),
  lanes: z.array(z.string()),
  slotsBusy: z.number().int().min(0),
  slotsTotal: z.number().int().min(0),
  /**
   * Slot-milliseconds spent busy since the worker started (cumulative, like costFinished): its
   * growth over elapsed time × slotsTotal is the worker's mean use between two reports.
   */
  busySlotMs: z.number().min(0).optional(),
  passLatencyEwmaMs: z.number().min(0),
  passLatencyP95Ms: z.number().min(0),
  /** Pass latency measured when idle; the ratio to it says how contended the "GPU" is. */
  baselinePassMs: z.number().min(0),
  jobsStarted: z.number().int().min(0),
  jobsFinished: z.number().int().min(0),
  jobsAborted: z.number().int().min(0),
  /** Cost units finished since start: the controller learns capacity from its rate. */
  costFinished: z.number().min(0),
  oldestJobAgeMs: z.number().min(0),
  blobWriteMs: z.number().min(0),
  storeLatencyMs: z.number().min(0),
});
export type WorkerSignal = z.infer<typeof WorkerSignal>;

/** Reported by each gateway every second. */
export const GatewaySignal = z.object({
  source: z.literal('gateway'),
  id: z.string(),
  at: z.number().int(),
  authLatencyMs: z.number().min(0),
  authErrorRate: z.number().min(0).max(1),
  authCacheHitRate: z.number().min(0).max(1),
  storeLatencyMs: z.number().min(0),
  /** Counters since start, by `lane/tier`, in cost units (the unit of WorkerSignal.costFinished). */
  offered: z.record(z.string(), z.number().min(0)),
  admitted: z.record(z.string(), z.number().min(0)),
  shed: z.record(z.string(), z.number().min(0)),
  signups: z.number().min(0),
});
export type GatewaySignal = z.infer<typeof GatewaySignal>;

export const SignalReport = z.discriminatedUnion('source', [WorkerSignal, GatewaySignal]);
export type SignalReport = z.infer<typeof SignalReport>;

/** Per lane × tier queue counters: tickets issued at enqueue, served at claim, finished cost. */
export const QueueStats = z.object({
  lane: z.string(),
  tier: z.string(),
  issued: z.number().int().min(0),
  served: z.number().int().min(0),
});
export type QueueStats = z.infer<typeof QueueStats>;

/** Dependencies whose saturation the controller watches. */
export const Dependency = z.enum(['gpu', 'queue', 'store', 'auth', 'blob']);
export type Dependency = z.infer<typeof Dependency>;
