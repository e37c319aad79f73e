import type { Query } from '../panel.ts';

/**
 * Latency of a dependency as the controller sees it, in seconds: saturation × target (ms) / 1000.
 * Store and blob saturations are plain latency ratios; auth's is the worse of its latency and
 * error-rate ratios, so it reads as "latency or its error-rate equivalent".
 */
export function dependencyLatency(dependencies: string[]): Query {
  const m = `dependency=~"${dependencies.join('|')}"`;
  return {
    expr: `max by (dependency) (spillway_controller_saturation{${m}} * on (job, instance, dependency) spillway_controller_saturation_target{${m}}) / 1000`,
    legend: '{{dependency}}',
  };
}
