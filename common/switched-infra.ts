import type { FaultSwitches } from './fault-switches.ts';
import { gatedInfra } from './gated-infra.ts';
import type { Infra } from './infra.ts';
import { SwitchedQueue } from './queue/switched-queue.ts';

/**
 * The embedded stack's Infra with its adapters consulting the fault switches: the stores that
 * stand in for Redis (job store, event log and coordination under slow-store; accounts under
 * slow-auth; all four under a Redis outage) and the queue that stands in for Kafka. Blobs are left
 * alone. Built only when fault hooks are on: without them the memory adapters are used directly.
 */
export function switchedInfra(infra: Infra, switches: FaultSwitches): Infra {
  const store = () => switches.before('store');
  const gated = gatedInfra(infra, {
    jobs: store,
    events: store,
    coord: store,
    accounts: () => switches.before('auth'),
  });
  return { ...gated, queue: new SwitchedQueue(infra.queue, switches) };
}
