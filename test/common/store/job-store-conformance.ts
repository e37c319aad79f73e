import { describe, expect, it } from 'vitest';
import { TERMINAL_STATES, type TerminalState } from '../../../common/contracts/index.ts';
import type { JobStore } from '../../../common/store/job-store.ts';
import type { MakeExpiring } from './expiring.ts';
import { jobId, queuedRecord, T0 } from './job-fixtures.ts';

const RESULT = {
  created: 1,
  images: [{ blob: 'img/final.png', format: 'png' as const, width: 64, height: 64 }],
  usage: {
    input_tokens: 3,
    output_tokens: 5,
    total_tokens: 8,
    input_tokens_details: { text_tokens: 3, image_tokens: 0 },
  },
};

/** Long enough for Redis over a busy machine to answer well inside it, short enough to wait out. */
const RETENTION_MS = 1_500;

/**
 * The JobStore contract, run against every implementation (memory in the unit project, Redis in
 * the integration project). `makeStore` returns a store with no records; `makeExpiring` one whose
 * finished records are kept for the given retention.
 */
export function jobStoreConformance(
  makeStore: () => Promise<JobStore>,
  makeExpiring: MakeExpiring<JobStore>,
) {
  describe('create and get', () => {
    it('stores a record and returns it unchanged', async () => {
      const store = await makeStore();
      const record = queuedRecord();
      expect(await store.create(record)).toEqual({ created: true, record });
      expect(await store.get(record.id)).toEqual(record);
      expect(await store.get(jobId())).toBeNull();
    });

    it('is idempotent by id and by (account, idempotency key)', async () => {
      const store = await makeStore();
      const first = queuedRecord();
      const idem = { account: 'acct_a', key: 'k-1', ttlMs: 60_000 };
      expect((await store.create(first, idem)).created).toBe(true);
      const again = await store.create(queuedRecord(T0 + 5), idem);
      expect(again).toEqual({ created: false, record: first });
      expect((await store.create(first)).created).toBe(false);
      // The same key from another account is another job.
      const other = queuedRecord();
      expect((await store.create(other, { ...idem, account: 'acct_b' })).created).toBe(true);
    });

    it('lets exactly one of concurrent creates with the same key win', async () => {
      const store = await makeStore();
      const idem = { account: 'acct_c', key: 'race', ttlMs: 60_000 };
      const results = await Promise.all(Array.from({ length: 8 }, () => store.create(queuedRecord(), idem)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.record.id)).size).toBe(1);
    });
  });

  describe('claim', () => {
    it('takes a queued job, raising fence and claim count', async () => {
      const store = await makeStore();
      const record = queuedRecord();
      await store.create(record);
      const claim = await store.claim(record.id, 'w1', 1_000, T0 + 10);
      expect(claim.ok).toBe(true);
      if (!claim.ok) return;
      expect(claim.fence).toBe(1);
      expect(claim.record).toMatchObject({
        state: 'running',
        owner: 'w1',
        fence: 1,
        claims: 1,
        leaseUntil: T0 + 1_010,
        startedAt: T0 + 10,
        updatedAt: T0 + 10,
      });
      expect(await store.get(record.id)).toEqual(claim.record);
    });

    it('refuses a job whose lease is live, and allows takeover once it lapsed', async () => {
      const store = await makeStore();
      const record = queuedRecord();
      await store.create(record);
      await store.claim(record.id, 'w1', 1_000, T0);
      expect(await store.claim(record.id, 'w2', 1_000, T0 + 1_000)).toMatchObject({
        ok: false,
        code: 'owned',
      });
      const takeover = await store.claim(record.id, 'w2', 1_000, T0 + 1_001);
      expect(takeover).toMatchObject({
        ok: true,
        fence: 2,
        record: { owner: 'w2', claims: 2, startedAt: T0 },
      });
    });

    it('refuses unknown and terminal jobs', async () => {
      const store = await makeStore();
      expect(await store.claim(jobId(), 'w1', 1_000, T0)).toEqual({
        ok: false,
        code: 'not_found',
        record: null,
      });
      const record = queuedRecord();
      await store.create(record);
      await store.finish(record.id, null, 'cancelled', {}, T0);
      expect(await store.claim(record.id, 'w1', 1_000, T0)).toMatchObject({ ok: false, code: 'terminal' });
    });
  });

  describe('fenced worker writes', () => {
    it('records progress and partials for the current fence only', async () => {
      const store = await makeStore();
      const record = queuedRecord();
      await store.create(record);
      await store.claim(record.id, 'w1', 1_000, T0);
      const progress = await store.progress(record.id, 1, 2, 4, T0 + 5_000, T0 + 50);
      expect(progress).toMatchObject({ ok: true, record: { pass: 2, passes: 4, leaseUntil: T0 + 5_000 } });
      expect(await store.addPartial(record.id, 1, 'p/0.png', T0 + 60)).toMatchObject({
        ok: true,
        record: { partials: ['p/0.png'] },
      });
      expect(await store.addPartial(record.id, 1, 'p/"1".png', T0 + 70)).toMatchObject({
        record: { partials: ['p/0.png', 'p/"1".png'] },
      });
      expect(await store.progress(record.id, 0, 3, 4, T0, T0)).toMatchObject({ ok: false, code: 'fenced' });
      expect(await store.addPartial(record.id, 2, 'x', T0)).toMatchObject({ ok: false, code: 'fenced' });
    });

    it('refuses a stale worker after a takeover', async () => {
      const store = await makeStore();
      const record = queuedRecord();
      await store.create(record);
      await store.claim(record.id, 'w1', 100, T0);
      await store.claim(record.id, 'w2', 100, T0 + 200);
      expect(await store.progress(record.id, 1, 1, 4, T0 + 900, T0 + 300)).toMatchObject({
        ok: false,
        code: 'fenced',
      });
      expect(await store.finish(record.id, 1, 'completed', { result: RESULT }, T0 + 300)).toMatchObject({
        ok: false,
        code: 'fenced',
      });
      expect(await store.finish(record.id, 2, 'completed', { result: RESULT }, T0 + 300)).toMatchObject({
        ok: true,
      });
    });

    it('refuses worker writes on a queued job (no fence yet) and on unknown jobs', async () => {
      const store = await makeStore();
      const record = queuedRecord();
      await store.create(record);
      expect(await store.progress(record.id, 0, 1, 4, T0, T0)).toMatchObject({ ok: false, code: 'fenced' });
      expect(await store.finish(record.id, 0, 'completed', {}, T0)).toMatchObject({
        ok: false,
        code: 'fenced',
      });
      expect(await store.progress(jobId(), 1, 1, 4, T0, T0)).toEqual({
        ok: false,
        code: 'not_found',
        record: null,
      });
    });
  });

  describe('finish', () => {
    for (const to of TERMINAL_STATES) {
      it(`running → ${to} by the owner stores the outcome`, async () => {
        const store = await makeStore();
        const record = queuedRecord();
        await store.create(record);
        await store.claim(record.id, 'w1', 1_000, T0);
        const patch = to === 'completed' ? { result: RESULT } : { error: { code: to, message: `job ${to}` } };
        const done = await store.finish(record.id, 1, to, patch, T0 + 99);
        expect(done).toMatchObject({
          ok: true,
          record: { state: to, owner: null, leaseUntil: 0, finishedAt: T0 + 99, ...patch },
        });
        // Terminal is final: no second finish, claim or progress.
        for (const again of TERMINAL_STATES) {
          expect(await store.finish(record.id, null, again, {}, T0 + 100)).toMatchObject({
            ok: false,
            code: 'terminal',
          });
        }
        expect(await store.progress(record.id, 1, 1, 4, T0, T0)).toMatchObject({
          ok: false,
          code: 'terminal',
        });
        expect((await store.get(record.id))?.state).toBe(to);
      });
    }

    const fromQueued: Record<TerminalState, boolean> = {
      completed: false,
      blocked: false,
      failed: true,
      expired: true,
      cancelled: true,
    };
    for (const [to, legal] of Object.entries(fromQueued) as [TerminalState, boolean][]) {
      it(`queued → ${to} by the client/reaper is ${legal ? 'legal' : 'an illegal transition'}`, async () => {
        const store = await makeStore();
        const record = queuedRecord();
        await store.create(record);
        const done = await store.finish(record.id, null, to, {}, T0 + 5);
        if (legal) expect(done).toMatchObject({ ok: true, record: { state: to } });
        else
          expect(done).toMatchObject({ ok: false, code: 'illegal_transition', record: { state: 'queued' } });
      });
    }

    it('lets exactly one of many concurrent finishes win', async () => {
      const store = await makeStore();
      const record = queuedRecord();
      await store.create(record);
      await store.claim(record.id, 'w1', 10_000, T0);
      const attempts = await Promise.all([
        store.finish(record.id, 1, 'completed', { result: RESULT }, T0 + 1),
        store.finish(record.id, null, 'cancelled', {}, T0 + 1),
        store.finish(record.id, 1, 'failed', { error: { code: 'x', message: 'x' } }, T0 + 1),
        store.finish(record.id, null, 'expired', {}, T0 + 1),
        store.finish(record.id, 1, 'blocked', {}, T0 + 1),
      ]);
      const winners = attempts.filter((a) => a.ok);
      expect(winners).toHaveLength(1);
      expect(attempts.filter((a) => !a.ok).every((a) => !a.ok && a.code === 'terminal')).toBe(true);
      expect((await store.get(record.id))?.state).toBe(winners[0].record?.state);
    });

    it('returns not_found for an unknown job', async () => {
      const store = await makeStore();
      expect(await store.finish(jobId(), null, 'cancelled', {}, T0)).toEqual({
        ok: false,
        code: 'not_found',
        record: null,
      });
    });
  });

  describe('checkpoints', () => {
    it('saves for the current fence, reloads byte for byte, and is gone after finish', async () => {
      const store = await makeStore();
      const record = queuedRecord();
      await store.create(record);
      await store.claim(record.id, 'w1', 1_000, T0);
      const data = Uint8Array.from([0, 1, 2, 255, 13, 10, 0]);
      expect((await store.saveCheckpoint(record.id, 1, data)).ok).toBe(true);
      expect(await store.saveCheckpoint(record.id, 9, Uint8Array.from([9]))).toMatchObject({
        ok: false,
        code: 'fenced',
      });
      expect(await store.loadCheckpoint(record.id)).toEqual(data);
      await store.finish(record.id, 1, 'completed', { result: RESULT }, T0 + 1);
      expect(await store.loadCheckpoint(record.id)).toBeNull();
    });
  });

  describe('listOverdue', () => {
    it('lists lapsed leases, queued past deadline, and queued never claimed too long', async () => {
      const store = await makeStore();
      const now = T0 + 10_000;
      const lapsed = queuedRecord(T0, 60_000);
      const live = queuedRecord(T0, 60_000);
      const pastDeadline = queuedRecord(now - 10, 5);
      const unclaimed = queuedRecord(now - 5_001, 60_000);
      const fresh = queuedRecord(now - 10, 60_000);
      const finished = queuedRecord(T0, 1);
      for (const r of [lapsed, live, pastDeadline, unclaimed, fresh, finished]) await store.create(r);
      await store.claim(lapsed.id, 'w1', 1_000, now - 2_000);
      await store.claim(live.id, 'w1', 1_000, now - 500);
      await store.finish(finished.id, null, 'expired', {}, T0 + 2);
      const overdue = await store.listOverdue(now, 5_000, 100);
      expect(overdue.map((r) => r.id).sort()).toEqual([lapsed.id, pastDeadline.id, unclaimed.id].sort());
      expect(await store.listOverdue(now, 5_000, 2)).toHaveLength(2);
      // Progress extends the lease: no longer overdue.
      await store.progress(lapsed.id, 1, 1, 4, now + 5_000, now);
      expect((await store.listOverdue(now, 5_000, 100)).map((r) => r.id)).not.toContain(lapsed.id);
    });
  });

  describe('tickets', () => {
    it('issues increasing tickets per lane × tier and tracks the served mark', async () => {
      const store = await makeStore();
      const issued = await Promise.all(Array.from({ length: 5 }, () => store.nextTicket('chat', 'free')));
      expect(issued.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
      expect(await store.nextTicket('api', 'pro')).toBe(1);
      await store.markServed('chat', 'free', 3);
      await store.markServed('chat', 'free', 2);
      const stats = await store.queueStats();
      expect(stats.sort((a, b) => a.lane.localeCompare(b.lane))).toEqual([
        { lane: 'api', tier: 'pro', issued: 1, served: 0 },
        { lane: 'chat', tier: 'free', issued: 5, served: 3 },
      ]);
    });
  });

  describe('retention', () => {
    it('forgets a finished record and its idempotency answer after the retention; a live job stays', async () => {
      const { store, elapse } = await makeExpiring(RETENTION_MS);
      const done = queuedRecord();
      const live = queuedRecord();
      const idem = { account: 'acct_r', key: 'k-r', ttlMs: 600_000 };
      await store.create(done, idem);
      await store.create(live);
      await store.claim(done.id, 'w1', 60_000, T0);
      await store.finish(done.id, 1, 'completed', { result: RESULT }, T0 + 1);
      await elapse(RETENTION_MS * 0.3);
      expect((await store.get(done.id))?.state).toBe('completed');
      expect((await store.create(queuedRecord(), idem)).record.id).toBe(done.id);

      await elapse(RETENTION_MS);
      expect(await store.get(done.id)).toBeNull();
      expect(await store.claim(done.id, 'w2', 1_000, T0 + 2)).toMatchObject({ ok: false, code: 'not_found' });
      // The key outlives the record it named: a retry with it now makes a new job.
      const again = queuedRecord();
      expect(await store.create(again, idem)).toEqual({ created: true, record: again });
      expect(await store.get(live.id)).toEqual(live);
    });
  });

  it('ping answers with a latency', async () => {
    const store = await makeStore();
    expect(await store.ping()).toBeGreaterThanOrEqual(0);
  });
}
