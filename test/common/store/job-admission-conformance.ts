import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../../common/contracts/index.ts';
import type { EventLog } from '../../../common/store/event-log.ts';
import { admitJob } from '../../../common/store/job-admission.ts';
import type { JobStore } from '../../../common/store/job-store.ts';
import { queuedRecord, T0 } from './job-fixtures.ts';

const QUEUED: ProgressEvent = { type: 'state', state: 'queued', pass: 0, passes: 4, at: T0 };

/**
 * admitJob (ticket + record + first event) against a job store and event log pair: the atomic
 * Redis script and the three-call path must both keep the contract. `make` returns empty stores.
 */
export function jobAdmissionConformance(make: () => Promise<{ jobs: JobStore; events: EventLog }>) {
  describe('admitJob', () => {
    it('issues the next ticket of the lane × tier into the stored record and appends the event', async () => {
      const { jobs, events } = await make();
      const a = await admitJob(jobs, events, queuedRecord(), undefined, QUEUED);
      const b = await admitJob(jobs, events, queuedRecord(), undefined, QUEUED);
      const other = await admitJob(jobs, events, { ...queuedRecord(), tier: 'pro' }, undefined, QUEUED);
      expect([a.created, b.created, other.created]).toEqual([true, true, true]);
      expect([a.record.ticket, b.record.ticket, other.record.ticket]).toEqual([1, 2, 1]);
      expect(await jobs.get(a.record.id)).toEqual(a.record);
      expect(await events.read(a.record.id, 0)).toEqual([{ seq: 1, event: QUEUED }]);
      expect(await events.read(b.record.id, 0)).toEqual([{ seq: 1, event: QUEUED }]);
      // Tickets from admitJob and nextTicket are one sequence.
      expect(await jobs.nextTicket('chat', 'free')).toBe(3);
    });

    it('wakes watchers of the new job', async () => {
      const { jobs, events } = await make();
      const record = queuedRecord();
      const woke = new Promise<void>((resolve) => {
        const stop = events.watch(record.id, () => {
          stop();
          resolve();
        });
      });
      await new Promise((r) => setTimeout(r, 50));
      await admitJob(jobs, events, record, undefined, QUEUED);
      await woke;
    });

    it('answers a repeated idempotency key with the first job and appends nothing', async () => {
      const { jobs, events } = await make();
      const idem = { account: 'acct_a', key: 'k-1', ttlMs: 60_000 };
      const first = await admitJob(jobs, events, queuedRecord(), idem, QUEUED);
      const repeat = queuedRecord(T0 + 5);
      const again = await admitJob(jobs, events, repeat, idem, QUEUED);
      expect(again).toEqual({ created: false, record: first.record });
      expect(await events.read(first.record.id, 0)).toHaveLength(1);
      expect(await events.read(repeat.id, 0)).toEqual([]);
      expect(await jobs.get(repeat.id)).toBeNull();
    });

    it('lets exactly one of concurrent admissions with the same key create a job', async () => {
      const { jobs, events } = await make();
      const idem = { account: 'acct_c', key: 'race', ttlMs: 60_000 };
      const records = Array.from({ length: 6 }, () => queuedRecord());
      const results = await Promise.all(records.map((r) => admitJob(jobs, events, r, idem, QUEUED)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.record.id)).size).toBe(1);
      const logged = await Promise.all(records.map((r) => events.read(r.id, 0)));
      expect(logged.flat()).toHaveLength(1);
    });
  });
}
