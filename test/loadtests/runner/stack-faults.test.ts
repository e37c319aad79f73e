import { describe, expect, it } from 'vitest';
import { Fault } from '../../../loadtests/campaign-schema.ts';
import { LatencyProxy } from '../../../loadtests/runner/latency-proxy.ts';
import {
  needsSlowableRedisLink,
  type StackParts,
  StackFaults,
} from '../../../loadtests/runner/stack-faults.ts';

const parts = (gatewayRedisProxy: LatencyProxy | null): StackParts => ({
  fleet: {} as StackParts['fleet'],
  gatewayRedisProxy,
  redis: null,
  kafka: null,
});

describe('the latency proxy on the gateway’s Redis link', () => {
  it('is asked for only by the faults that slow that link', () => {
    expect(needsSlowableRedisLink([])).toBe(false);
    expect(needsSlowableRedisLink([{ kind: 'kill-workers' }, { kind: 'restart-redis' }])).toBe(false);
    expect(needsSlowableRedisLink([{ kind: 'kill-workers' }, { kind: 'slow-store' }])).toBe(true);
    expect(needsSlowableRedisLink([{ kind: 'slow-auth' }])).toBe(true);
  });

  it('without one, slow-store and slow-auth are reported as not supported rather than silently not applied', () => {
    const faults = new StackFaults(parts(null));
    expect(faults.unsupported('slow-store')).toMatch(/without a latency proxy/);
    expect(faults.unsupported('slow-auth')).toMatch(/without a latency proxy/);
    expect(faults.unsupported('kill-workers')).toBeNull();
  });

  it('with one, a slow fault delays each direction by half its latency until undone', async () => {
    const proxy = await LatencyProxy.start({ upstreamPort: 9 });
    try {
      const faults = new StackFaults(parts(proxy));
      expect(faults.unsupported('slow-store')).toBeNull();
      const applied = await faults.apply(Fault.parse({ at: '0s', kind: 'slow-store', latency: '80ms' }));
      expect(proxy.delayMs).toBe(40);
      await applied.undo();
      expect(proxy.delayMs).toBe(0);
    } finally {
      await proxy.close();
    }
  });
});
