import { describe, expect, it } from 'vitest';
import { isFresh } from '../../common/contracts/index.ts';
import { createLogger } from '../../common/log.ts';
import { createMemoryInfra } from '../../common/memory-infra.ts';
import { StaticPolicySource } from '../../common/policy/policy-source.ts';
import { leaseTtlMs } from '../../controller/leader-lease.ts';
import { Controller, startController } from '../../controller/service.ts';
import { testPolicy } from './scenario.ts';
import { until } from '../support/until.ts';

const log = createLogger('controller-test', 'silent');
const fastPolicy = () =>
  new StaticPolicySource(testPolicy('aimd', { control: { interval: '200ms', ttl: '1s' } }));

describe('leader election', () => {
  it('only the lease holder publishes; a standby takes over after the leader dies without releasing', async () => {
    const infra = createMemoryInfra();
    const policy = fastPolicy();
    const a = await startController({ infra, policy, log, id: 'ctl-a' });
    const first = await until(() => infra.coord.readAdmission(), 5000);
    const b = await startController({ infra, policy, log, id: 'ctl-b' });
    await new Promise((r) => setTimeout(r, 600));
    expect(a.status().leader).toBe(true);
    expect(b.status().leader).toBe(false);
    expect(b.status().version).toBe(0);

    await a.crash();
    const killedAt = Date.now();
    const taken = await until(async () => {
      const s = await infra.coord.readAdmission();
      return s && s.epoch > first.epoch ? s : null;
    }, 15_000);
    const takeoverMs = Date.now() - killedAt;
    expect(takeoverMs).toBeLessThanOrEqual(leaseTtlMs(200) + 5000);
    expect(b.status().leader).toBe(true);
    // Versions keep growing across leaders, so gateways never mistake the new state for an old one.
    const lastOfA = a.status().version;
    expect(taken.version).toBeGreaterThan(lastOfA);

    await b.crash();
    const stoppedAt = Date.now();
    const state = (await infra.coord.readAdmission())!;
    await new Promise((r) => setTimeout(r, state.ttlMs + 100));
    expect(isFresh(state, Date.now())).toBe(false);
    expect(Date.now() - stoppedAt).toBeGreaterThan(state.ttlMs);
  });

  it('a deposed leader does not publish over its successor', async () => {
    const infra = createMemoryInfra();
    const policy = fastPolicy();
    let clock = 1_000_000;
    const now = () => clock;
    const a = new Controller({ infra, policy, log, id: 'a', now });
    const b = new Controller({ infra, policy, log, id: 'b', now });
    await a.tick();
    await b.tick();
    expect(a.status().leader).toBe(true);
    expect(b.status().leader).toBe(false);
    clock += leaseTtlMs(200) + 1; // a stalls past its lease
    await b.tick();
    const bState = (await infra.coord.readAdmission())!;
    expect(bState.epoch).toBeGreaterThan(1);
    await a.tick();
    expect(a.status().leader).toBe(false);
    expect((await infra.coord.readAdmission())!.epoch).toBe(bState.epoch);
  });
});
