import { Counter, Gauge, type Registry } from 'prom-client';
import { registry as sharedRegistry } from '../metrics.ts';

export interface PolicyMetrics {
  reloads: Counter<'result'>;
  activeInfo: Gauge<'version'>;
  lastRejection: Gauge;
  lastActivation: Gauge;
}

const byRegistry = new WeakMap<Registry, PolicyMetrics>();

/** One set per registry: several watchers in one process (embedded mode, tests) share them. */
export function policyMetrics(registry: Registry = sharedRegistry): PolicyMetrics {
  const existing = byRegistry.get(registry);
  if (existing) return existing;
  const registers = [registry];
  const metrics: PolicyMetrics = {
    reloads: new Counter({
      name: 'spillway_policy_reload_total',
      help: 'Policy reload attempts by result (activated, rejected, unchanged)',
      labelNames: ['result'],
      registers,
    }),
    activeInfo: new Gauge({
      name: 'spillway_policy_active_info',
      help: 'The active policy version (content hash), value 1',
      labelNames: ['version'],
      registers,
    }),
    lastRejection: new Gauge({
      name: 'spillway_policy_last_rejection_timestamp_seconds',
      help: 'When a policy change was last rejected (0 = never)',
      registers,
    }),
    lastActivation: new Gauge({
      name: 'spillway_policy_last_activation_timestamp_seconds',
      help: 'When a policy was last activated',
      registers,
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
