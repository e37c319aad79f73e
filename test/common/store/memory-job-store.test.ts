import { describe, expect, it } from 'vitest';
import { MemoryJobStore } from '../../../common/store/memory-job-store.ts';
import { DEFAULT_TERMINAL_RETENTION_MS } from '../../../common/store/retention.ts';
import { fakeClock } from './expiring.ts';
import { jobId, queuedRecord, T0 } from './job-fixtures.ts';
import { jobStoreConformance } from './job-store-conformance.ts';

const HOUR_MS = 3_600_000;

describe('MemoryJobStore', () => {
  jobStoreConformance(
    async () => new MemoryJobStore(),
    async (terminalRetentionMs) => {
      const clock = fakeClock(T0);
      return { store: new MemoryJobStore({ terminalRetentionMs, now: clock.now }), elapse: clock.elapse };
    },
  );

  describe('bounded memory', () => {
    it('holds nothing once every finished job is past its retention (default: Redis’s 7 days)', async () => {
      const clock = fakeClock(T0);
      const store = new MemoryJobStore({ now: clock.now });
      for (let i = 0; i < 50; i++) {
        const r = queuedRecord();
        await store.create(r, { account: 'acct', key: `k${i}`, ttlMs: HOUR_MS });
        await store.claim(r.id, 'w1', 60_000, T0);
        await store.saveCheckpoint(r.id, 1, Uint8Array.from([i]));
        if (i % 2 === 0) await store.finish(r.id, 1, 'completed', {}, T0);
      }
      // The other half finish later, so their retention ends later too.
      await clock.elapse(HOUR_MS);
      for (const r of await store.listOverdue(T0 + 2 * 60_000, 1, 100))
        await store.finish(r.id, null, 'failed', {}, T0);
      expect(store.counts()).toEqual({ records: 50, checkpoints: 0, idempotency: 0 });

      await clock.elapse(DEFAULT_TERMINAL_RETENTION_MS - HOUR_MS);
      await store.get(jobId());
      expect(store.counts()).toEqual({ records: 25, checkpoints: 0, idempotency: 0 });
      await clock.elapse(HOUR_MS);
      await store.get(jobId());
      expect(store.counts()).toEqual({ records: 0, checkpoints: 0, idempotency: 0 });
    });

    it('keeps a finished record until the retention is up to the millisecond, and never a live one', async () => {
      const clock = fakeClock(T0);
      const store = new MemoryJobStore({ terminalRetentionMs: 1_000, now: clock.now });
      const done = queuedRecord();
      const live = queuedRecord();
      await store.create(done);
      await store.create(live);
      await clock.elapse(500);
      await store.finish(done.id, null, 'cancelled', {}, T0);
      await clock.elapse(999);
      expect((await store.get(done.id))?.state).toBe('cancelled');
      await clock.elapse(1);
      expect(await store.get(done.id)).toBeNull();
      await clock.elapse(10 * DEFAULT_TERMINAL_RETENTION_MS);
      expect(await store.get(live.id)).toEqual(live);
    });

    it('drops an expired idempotency key while its job is still running', async () => {
      const clock = fakeClock(T0);
      const store = new MemoryJobStore({ now: clock.now });
      const r = queuedRecord();
      await store.create(r, { account: 'acct', key: 'k', ttlMs: 1_000 });
      expect(store.counts().idempotency).toBe(1);
      await clock.elapse(1_000);
      await store.claim(r.id, 'w1', 60_000, T0);
      expect(store.counts()).toEqual({ records: 1, checkpoints: 0, idempotency: 0 });
    });
  });
});
