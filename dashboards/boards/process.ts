import { type Item, RATE, row, timeseries } from '../panel.ts';

/** Event-loop lag, CPU and memory of every scraped Spillway process (one series per instance). */
export function processPanels(): Item[] {
  return [
    row('Process'),
    timeseries({
      title: 'Event-loop lag p99',
      description: 'A lagging event loop delays every request and heartbeat in that process.',
      unit: 's',
      width: 6,
      queries: [
        {
          expr: 'max by (job, instance) (spillway_nodejs_eventloop_lag_p99_seconds)',
          legend: '{{instance}}',
        },
      ],
    }),
    timeseries({
      title: 'CPU (cores)',
      description: 'CPU seconds per second, user and system together.',
      unit: 'short',
      width: 6,
      queries: [
        {
          expr: `sum by (job, instance) (rate(spillway_process_cpu_seconds_total[${RATE}]))`,
          legend: '{{instance}}',
        },
      ],
    }),
    timeseries({
      title: 'Memory',
      description: 'Resident set size and V8 heap in use.',
      unit: 'bytes',
      width: 6,
      queries: [
        {
          expr: 'max by (job, instance) (spillway_process_resident_memory_bytes)',
          legend: '{{instance}} rss',
        },
        {
          expr: 'max by (job, instance) (spillway_nodejs_heap_size_used_bytes)',
          legend: '{{instance}} heap',
        },
      ],
    }),
    timeseries({
      title: 'Time in GC',
      description: 'Share of wall time spent in garbage collection.',
      unit: 'percentunit',
      width: 6,
      queries: [
        {
          expr: `sum by (job, instance) (rate(spillway_nodejs_gc_duration_seconds_sum[${RATE}]))`,
          legend: '{{instance}}',
        },
      ],
    }),
  ];
}
