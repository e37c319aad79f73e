import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Account } from '../../common/contracts/index.ts';
import { DependencyError } from '../../common/errors.ts';
import { FaultSwitches } from '../../common/fault-switches.ts';
import type { Infra } from '../../common/infra.ts';
import { createMemoryInfra } from '../../common/memory-infra.ts';
import { MemoryEventLog } from '../../common/store/memory-event-log.ts';
import { MemoryJobStore } from '../../common/store/memory-job-store.ts';
import { switchedInfra } from '../../common/switched-infra.ts';
import { accountStoreConformance } from './store/account-store-conformance.ts';
import { coordinationStoreConformance } from './store/coordination-store-conformance.ts';
import { eventLogConformance } from './store/event-log-conformance.ts';
import { fakeClock } from './store/expiring.ts';
import { jobStoreConformance } from './store/job-store-conformance.ts';
import { queuedRecord, T0 } from './store/job-fixtures.ts';

const account: Account = {
  id: 'acct-1',
  tier: 'pro',
  lane: 'api',
  createdAt: T0,
  source: 'file',
  disabled: false,
};

/** A memory Infra behind the fault switches, with the adapters given in place of the defaults. */
function switched(over: Partial<Infra> = {}, switches = new FaultSwitches()) {
  return { infra: switchedInfra({ ...createMemoryInfra(), ...over }, switches), switches };
}

/** Whether `p` has settled after the fake clock moved `ms` on. */
async function settledAfter(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await vi.advanceTimersByTimeAsync(ms);
  return settled;
}

afterEach(() => {
  vi.useRealTimers();
});

// With no switch on, every adapter behind the switches keeps its whole contract.
describe('switched adapters, no fault on', () => {
  jobStoreConformance(
    async () => switched().infra.jobs,
    async (terminalRetentionMs) => {
      const clock = fakeClock(T0);
      const jobs = new MemoryJobStore({ terminalRetentionMs, now: clock.now });
      return { store: switched({ jobs }).infra.jobs, elapse: clock.elapse };
    },
  );
  eventLogConformance(
    async () => switched().infra.events,
    async (retentionMs) => {
      const clock = fakeClock(T0);
      const events = new MemoryEventLog({ retentionMs, now: clock.now });
      return { store: switched({ events }).infra.events, elapse: clock.elapse };
    },
  );
  accountStoreConformance(async () => switched().infra.accounts);
  coordinationStoreConformance(async () => switched().infra.coord);
});

describe('slow-store switch', () => {
  it('delays every job-store, event-log and coordination call, not account look-ups, until undone', async () => {
    vi.useFakeTimers();
    const { infra, switches } = switched();
    await infra.accounts.put('h1', account);
    const undo = switches.slow('store', 200);
    expect(await settledAfter(infra.jobs.get('job_x'), 199)).toBe(false);
    expect(await settledAfter(infra.events.read('job_x', 0), 199)).toBe(false);
    expect(await settledAfter(infra.coord.readSignals(), 199)).toBe(false);
    expect(await settledAfter(infra.accounts.byKeyHash('h1'), 0)).toBe(true);
    const delayed = infra.jobs.get('job_y');
    expect(await settledAfter(delayed, 200)).toBe(true);
    undo();
    expect(await settledAfter(infra.jobs.get('job_x'), 0)).toBe(true);
  });

  it('holds the largest of overlapping latencies, and undoing one leaves the other', async () => {
    vi.useFakeTimers();
    const { infra, switches } = switched();
    const undoSmall = switches.slow('store', 100);
    const undoLarge = switches.slow('store', 300);
    expect(await settledAfter(infra.jobs.ping(), 299)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    undoLarge();
    undoLarge();
    expect(await settledAfter(infra.jobs.ping(), 99)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    undoSmall();
    expect(await settledAfter(infra.jobs.ping(), 0)).toBe(true);
  });

  it('leaves sync calls alone: a watch subscribes and wakes while the store is slow', async () => {
    vi.useFakeTimers();
    const { infra, switches } = switched();
    switches.slow('store', 500);
    let woken = 0;
    const unwatch = infra.events.watch('job_w', () => woken++);
    expect(typeof unwatch).toBe('function');
    const append = infra.events.append('job_w', {
      type: 'state',
      state: 'queued',
      pass: 0,
      passes: 4,
      at: 1,
    });
    await vi.advanceTimersByTimeAsync(500);
    expect(await append).toBe(1);
    expect(woken).toBeGreaterThan(0);
    unwatch();
  });
});

describe('slow-auth switch', () => {
  it('delays account look-ups only', async () => {
    vi.useFakeTimers();
    const { infra, switches } = switched();
    await infra.accounts.put('h1', account);
    const undo = switches.slow('auth', 250);
    const lookup = infra.accounts.byKeyHash('h1');
    expect(await settledAfter(lookup, 249)).toBe(false);
    expect(await settledAfter(lookup, 1)).toBe(true);
    expect(await lookup).toMatchObject({ id: 'acct-1' });
    expect(await settledAfter(infra.jobs.get('job_x'), 0)).toBe(true);
    expect(await settledAfter(infra.coord.readAdmission(), 0)).toBe(true);
    undo();
    expect(await settledAfter(infra.accounts.byKeyHash('h1'), 0)).toBe(true);
  });
});

describe('restart-redis switch', () => {
  it('fails job-store, event-log, account and coordination calls at once, keeps the data, then works again', async () => {
    const { infra, switches } = switched();
    const record = queuedRecord();
    await infra.jobs.create(record);
    await infra.accounts.put('h1', account);
    const up = switches.redisOutage();
    const calls = [
      infra.jobs.get(record.id),
      infra.jobs.ping(),
      infra.events.read(record.id, 0),
      infra.accounts.byKeyHash('h1'),
      infra.coord.readSignals(),
    ];
    for (const call of calls) await expect(call).rejects.toBeInstanceOf(DependencyError);
    // A write refused during the outage did not happen.
    await expect(infra.jobs.finish(record.id, null, 'cancelled', {}, T0 + 1)).rejects.toMatchObject({
      code: 'dependency_unavailable',
    });
    up();
    expect(await infra.jobs.get(record.id)).toMatchObject({ state: 'queued' });
    expect(await infra.accounts.byKeyHash('h1')).toMatchObject({ id: 'acct-1' });
  });

  it('fails a slowed call whose delay ends during the outage', async () => {
    vi.useFakeTimers();
    const { infra, switches } = switched();
    switches.slow('store', 100);
    const call = infra.jobs.ping();
    call.catch(() => undefined);
    switches.redisOutage();
    await vi.advanceTimersByTimeAsync(100);
    await expect(call).rejects.toBeInstanceOf(DependencyError);
  });

  it('leaves the queue and the blobs alone', async () => {
    const { infra, switches } = switched();
    switches.redisOutage();
    await infra.queue.publish('t', { key: 'k', value: Buffer.from('m'), headers: {} });
    await infra.blobs.put('b', Buffer.from('x'), 'text/plain');
    expect(await infra.queue.healthy()).toBe(true);
  });
});
