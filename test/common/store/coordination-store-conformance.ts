import { describe, expect, it } from 'vitest';
import type { AdmissionState, GatewaySignal, WorkerSignal } from '../../../common/contracts/index.ts';
import type { CoordinationStore } from '../../../common/store/coordination-store.ts';
import { takeFromBucket, type BucketState } from '../../../common/token-bucket.ts';
import { T0 } from './job-fixtures.ts';

function admission(epoch: number, version: number): AdmissionState {
  return {
    v: 1,
    version,
    epoch,
    issuedAt: T0,
    ttlMs: 5_000,
    policyVersion: 'p1',
    law: 'test',
    lanes: {
      chat: {
        free: {
          mode: 'open',
          rate: 12.5,
          burst: 30,
          brownout: { level: 1, passes: 2 },
          edits: false,
          expectedWaitMs: 100,
          maxWaitMs: 30_000,
        },
      },
    },
    signup: { rate: null, burst: 0 },
    reasons: ['test'],
  };
}

const worker = (id: string): WorkerSignal => ({
  source: 'worker',
  id,
  at: T0,
  lanes: ['chat'],
  slotsBusy: 1,
  slotsTotal: 2,
  passLatencyEwmaMs: 12.5,
  passLatencyP95Ms: 20,
  baselinePassMs: 10,
  jobsStarted: 3,
  jobsFinished: 2,
  jobsAborted: 0,
  costFinished: 2.5,
  oldestJobAgeMs: 40,
  blobWriteMs: 1,
  storeLatencyMs: 0.5,
});

const gateway = (id: string): GatewaySignal => ({
  source: 'gateway',
  id,
  at: T0,
  authLatencyMs: 1,
  authErrorRate: 0,
  authCacheHitRate: 0.9,
  storeLatencyMs: 0.4,
  offered: { 'chat/free': 10 },
  admitted: { 'chat/free': 8 },
  shed: { 'chat/free': 2 },
  signups: 1,
});

/** The CoordinationStore contract, run against the memory and Redis implementations. */
export function coordinationStoreConformance(makeStore: () => Promise<CoordinationStore>) {
  describe('leader lease', () => {
    it('is exclusive while live, renewable by its holder, and taken over after expiry with a new epoch', async () => {
      const store = await makeStore();
      const a = await store.acquireLease('controller', 'a', 1_000, T0);
      expect(a).toEqual({ held: true, holder: 'a', epoch: 1, expiresAt: T0 + 1_000 });
      expect(await store.acquireLease('controller', 'b', 1_000, T0 + 500)).toEqual({
        held: false,
        holder: 'a',
        epoch: 1,
        expiresAt: T0 + 1_000,
      });
      expect(await store.acquireLease('controller', 'a', 1_000, T0 + 900)).toEqual({
        held: true,
        holder: 'a',
        epoch: 1,
        expiresAt: T0 + 1_900,
      });
      const b = await store.acquireLease('controller', 'b', 1_000, T0 + 1_900);
      expect(b).toEqual({ held: true, holder: 'b', epoch: 2, expiresAt: T0 + 2_900 });
      expect((await store.acquireLease('controller', 'a', 1_000, T0 + 2_000)).held).toBe(false);
      // Other lease names are independent.
      expect((await store.acquireLease('other', 'a', 1_000, T0 + 2_000)).epoch).toBe(1);
    });

    it('is released only by its holder, and the next holder gets a higher epoch', async () => {
      const store = await makeStore();
      await store.acquireLease('controller', 'a', 10_000, T0);
      await store.releaseLease('controller', 'b');
      expect((await store.acquireLease('controller', 'b', 10_000, T0 + 1)).held).toBe(false);
      await store.releaseLease('controller', 'a');
      expect(await store.acquireLease('controller', 'b', 10_000, T0 + 2)).toMatchObject({
        held: true,
        epoch: 2,
      });
    });

    it('grants a contested lease to exactly one candidate', async () => {
      const store = await makeStore();
      const results = await Promise.all(
        ['a', 'b', 'c', 'd'].map((who) => store.acquireLease('controller', who, 10_000, T0)),
      );
      expect(results.filter((r) => r.held)).toHaveLength(1);
    });
  });

  describe('admission state', () => {
    it('publishes unless a higher epoch already published', async () => {
      const store = await makeStore();
      expect(await store.readAdmission()).toBeNull();
      expect(await store.publishAdmission(admission(2, 1))).toBe(true);
      expect(await store.publishAdmission(admission(1, 9))).toBe(false);
      expect(await store.readAdmission()).toEqual(admission(2, 1));
      expect(await store.publishAdmission(admission(2, 2))).toBe(true);
      expect(await store.publishAdmission(admission(3, 1))).toBe(true);
      expect(await store.readAdmission()).toEqual(admission(3, 1));
    });

    it("keeps the leader's handover with its state, refused with it, and gives it back as JSON would", async () => {
      const store = await makeStore();
      expect(await store.readHandover()).toBeNull();
      const handover = (epoch: number, at: number) => ({
        v: 1,
        epoch,
        at,
        memory: { at, law: 'aimd', factors: { chat: 0.9, api: null }, lost: Number.POSITIVE_INFINITY },
      });
      expect(await store.publishAdmission(admission(2, 1), handover(2, 1000))).toBe(true);
      expect(await store.readHandover()).toEqual({
        ...handover(2, 1000),
        memory: { at: 1000, law: 'aimd', factors: { chat: 0.9, api: null }, lost: null },
      });
      // A deposed leader's handover is refused with its state.
      expect(await store.publishAdmission(admission(1, 9), handover(1, 2000))).toBe(false);
      expect((await store.readHandover())?.at).toBe(1000);
      // A state published without one leaves the last handover in place.
      expect(await store.publishAdmission(admission(2, 2))).toBe(true);
      expect((await store.readHandover())?.at).toBe(1000);
      expect(await store.publishAdmission(admission(3, 1), handover(3, 3000))).toBe(true);
      expect(await store.readHandover()).toMatchObject({ epoch: 3, at: 3000 });
      expect(await store.readAdmission()).toEqual(admission(3, 1));
    });
  });

  describe('signals', () => {
    it('keeps the latest report per source and id until its ttl runs out', async () => {
      const store = await makeStore();
      await store.reportSignal(worker('w1'), 60_000);
      await store.reportSignal({ ...worker('w1'), slotsBusy: 2 }, 60_000);
      await store.reportSignal(gateway('w1'), 60_000);
      await store.reportSignal(worker('gone'), 1);
      await new Promise((r) => setTimeout(r, 30));
      const signals = await store.readSignals();
      expect(signals.map((s) => `${s.source}/${s.id}`).sort()).toEqual(['gateway/w1', 'worker/w1']);
      expect(signals.find((s) => s.source === 'worker')).toEqual({ ...worker('w1'), slotsBusy: 2 });
    });
  });

  describe('global token bucket', () => {
    it('starts full, refills at its rate up to burst, and says how long to wait', async () => {
      const store = await makeStore();
      expect(await store.takeTokens('b', 3, 2, 4, T0)).toEqual({ ok: true, waitMs: 0 });
      expect(await store.takeTokens('b', 3, 2, 4, T0)).toEqual({ ok: false, waitMs: 1_000 });
      expect(await store.takeTokens('b', 3, 2, 4, T0 + 1_000)).toEqual({ ok: true, waitMs: 0 });
      // A long idle period refills to burst, not beyond.
      expect(await store.takeTokens('b', 4, 2, 4, T0 + 60_000)).toEqual({ ok: true, waitMs: 0 });
      expect((await store.takeTokens('b', 1, 2, 4, T0 + 60_000)).ok).toBe(false);
      expect(await store.takeTokens('never', 5, 0, 4, T0)).toEqual({
        ok: false,
        waitMs: Number.POSITIVE_INFINITY,
      });
    });

    it('borrows from the first fallback with tokens when its own bucket is short', async () => {
      const store = await makeStore();
      const free = { bucket: 'chat/free', ratePerSec: 1, burst: 2 };
      const plus = { bucket: 'chat/plus', ratePerSec: 1, burst: 2 };
      expect(await store.takeTokens('chat/pro', 2, 1, 2, T0, [free, plus])).toEqual({ ok: true, waitMs: 0 });
      // Own bucket empty: the tokens come from free, the first fallback.
      expect(await store.takeTokens('chat/pro', 2, 1, 2, T0, [free, plus])).toEqual({
        ok: true,
        waitMs: 0,
        borrowedFrom: 'chat/free',
      });
      // Free is empty now (its own requests are refused), so plus lends next.
      expect((await store.takeTokens('chat/free', 1, 1, 2, T0)).ok).toBe(false);
      expect(await store.takeTokens('chat/pro', 2, 1, 2, T0, [free, plus])).toEqual({
        ok: true,
        waitMs: 0,
        borrowedFrom: 'chat/plus',
      });
      // Nothing left anywhere: refused with the own bucket's wait.
      expect(await store.takeTokens('chat/pro', 2, 1, 2, T0, [free, plus])).toEqual({
        ok: false,
        waitMs: 2_000,
      });
      // The own bucket kept refilling all along.
      expect(await store.takeTokens('chat/pro', 1, 1, 2, T0 + 1_000)).toEqual({ ok: true, waitMs: 0 });
    });

    it('takes a retry only while the bucket holds its headroom, and then only its cost', async () => {
      const store = await makeStore();
      // Full bucket of 4: a retry of cost 1 needing 2 is taken and leaves 3, not 2.
      expect(await store.takeTokens('r', 1, 1, 4, T0, [], 2)).toEqual({ ok: true, waitMs: 0 });
      expect(await store.takeTokens('r', 2, 1, 4, T0)).toEqual({ ok: true, waitMs: 0 });
      // 1 left: a first attempt of cost 1 passes where the retry waits for the bucket to hold 2.
      expect(await store.takeTokens('r', 1, 1, 4, T0, [], 2)).toEqual({ ok: false, waitMs: 1_000 });
      expect(await store.takeTokens('r', 1, 1, 4, T0)).toEqual({ ok: true, waitMs: 0 });
      // A headroom above the burst is held to the burst: the retry passes once the bucket is full.
      expect((await store.takeTokens('r', 1, 1, 4, T0 + 3_999, [], 9)).ok).toBe(false);
      expect(await store.takeTokens('r', 1, 1, 4, T0 + 4_000, [], 9)).toEqual({ ok: true, waitMs: 0 });
    });

    it('gives a stream of retries alone the whole rate, not a share of it', async () => {
      const store = await makeStore();
      let taken = 0;
      // 10 s of a retry every 50 ms against 4 tokens/s of cost-1 requests, burst 2.
      for (let t = 0; t < 10_000; t += 50)
        if ((await store.takeTokens('only-retries', 1, 4, 2, T0 + t, [], 2)).ok) taken++;
      // The rate's 40 plus the burst; charging retries twice their cost gave about half.
      expect(taken).toBeGreaterThanOrEqual(39);
      expect(taken).toBeLessThanOrEqual(42);
    });

    it('matches the pure token bucket step for step, fractional rates included', async () => {
      const store = await makeStore();
      let state: BucketState | null = null;
      let now = T0;
      let seed = 7;
      const rand = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      for (let i = 0; i < 80; i++) {
        now += Math.floor(rand() * 400);
        const cost = 0.5 + Math.floor(rand() * 6) / 2;
        // Every third ask is a retry's: headroom of twice its cost, or more than the burst.
        const need = i % 3 === 0 ? cost * (i % 2 === 0 ? 2 : 5) : cost;
        const expected = takeFromBucket(state, cost, 3.3, 7.5, now, need);
        state = expected.state;
        expect(await store.takeTokens('mirror', cost, 3.3, 7.5, now, [], need)).toEqual({
          ok: expected.ok,
          waitMs: expected.waitMs,
        });
      }
    });
  });
}
