import { Counter, Gauge, Histogram, type Metric } from 'prom-client';
import { registry } from '../common/metrics.ts';

// Metrics are registered once per process (embedded mode may start several workers).
function once<T extends Metric>(name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export const passDuration = once(
  'spillway_worker_pass_duration_seconds',
  () =>
    new Histogram({
      name: 'spillway_worker_pass_duration_seconds',
      help: 'Decoder pass duration by output size (longer side, px)',
      labelNames: ['size'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
);

export const jobDuration = once(
  'spillway_worker_job_duration_seconds',
  () =>
    new Histogram({
      name: 'spillway_worker_job_duration_seconds',
      help: 'Time from claim to terminal state on this worker',
      labelNames: ['lane', 'tier', 'operation', 'outcome'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
);

export const queueWait = once(
  'spillway_worker_queue_wait_seconds',
  () =>
    new Histogram({
      name: 'spillway_worker_queue_wait_seconds',
      help: 'Time from admission (job created) to a worker claiming it',
      labelNames: ['lane', 'tier'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
);

export const jobsByOutcome = once(
  'spillway_worker_jobs_total',
  () =>
    new Counter({
      name: 'spillway_worker_jobs_total',
      help: 'Jobs run by outcome (completed, blocked, failed, aborted, handed_off, abandoned by a crashed worker)',
      labelNames: ['lane', 'tier', 'outcome'],
      registers: [registry],
    }),
);

export const jobsSkipped = once(
  'spillway_worker_jobs_skipped_total',
  () =>
    new Counter({
      name: 'spillway_worker_jobs_skipped_total',
      help: 'Deliveries dropped before any model ran, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
);

export const slotsBusy = once(
  'spillway_worker_slots_busy',
  () =>
    new Gauge({
      name: 'spillway_worker_slots_busy',
      help: 'Jobs running on this process now',
      labelNames: ['worker'],
      registers: [registry],
    }),
);

/** Cumulative slot-busy milliseconds of each worker of this process, read at scrape time. */
const busySlotSources = new Map<string, { read: () => number; reported: number }>();

/**
 * Exact slot use for scrapers: rate(this) / slots is the share of time the slots held jobs, where
 * sampling spillway_worker_slots_busy misses whatever starts and ends between two scrapes.
 */
export const slotBusySeconds = once(
  'spillway_worker_slot_busy_seconds_total',
  () =>
    new Counter({
      name: 'spillway_worker_slot_busy_seconds_total',
      help: 'Slot-seconds spent holding jobs (in-progress jobs included up to the scrape)',
      labelNames: ['worker'],
      registers: [registry],
      collect() {
        for (const [worker, source] of busySlotSources) {
          const now = source.read();
          if (now > source.reported) this.inc({ worker }, (now - source.reported) / 1000);
          source.reported = Math.max(source.reported, now);
        }
      },
    }),
);

/** Reports a worker's cumulative slot-busy ms on every scrape; returns the unregister. */
export function reportBusySlots(worker: string, read: () => number): () => void {
  busySlotSources.set(worker, { read, reported: 0 });
  return () => busySlotSources.delete(worker);
}

export const deadLettered = once(
  'spillway_worker_dead_letter_total',
  () =>
    new Counter({
      name: 'spillway_worker_dead_letter_total',
      help: 'Jobs sent to the dead-letter topic',
      registers: [registry],
    }),
);

export const deliveryRetries = once(
  'spillway_worker_delivery_retries_total',
  () =>
    new Counter({
      name: 'spillway_worker_delivery_retries_total',
      help: 'Deliveries retried because the store or queue failed outside a run',
      registers: [registry],
    }),
);

export const deliveriesReleased = once(
  'spillway_worker_deliveries_released_total',
  () =>
    new Counter({
      name: 'spillway_worker_deliveries_released_total',
      help: 'Deliveries published again and acked after failing past the retry budget',
      registers: [registry],
    }),
);
