import { Counter, Gauge, type Registry } from 'prom-client';
import { registry as sharedRegistry } from '../metrics.ts';

export interface PolicyMetrics {
  reloads: Counter<'result'>;
  activeInfo: Gauge<'version'>;
  lastRejection: Gauge;
  lastActivation: Gauge;
  onDiskValid: Gauge;
  warnings: Gauge;
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
    onDiskValid: new Gauge({
      name: 'spillway_policy_on_disk_valid',
      help: '1 while the policy files on disk are the active policy; 0 while they are refused and the last good policy runs',
      registers,
    }),
    warnings: new Gauge({
      name: 'spillway_policy_warnings',
      help: 'Warnings of the active policy (e.g. shadowed-file: a file that later files undo)',
      registers,
    }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
