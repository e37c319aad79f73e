import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canTransition,
  isTerminal,
  type JobRecord,
  TERMINAL_STATES,
  type TerminalState,
  TRANSITIONS,
} from '../../common/contracts/index.ts';
import type { JobStore } from '../../common/store/job-store.ts';
import { isOverdue } from '../../common/store/job-transitions.ts';
import { MemoryJobStore } from '../../common/store/memory-job-store.ts';
import { queuedRecord, T0 } from '../common/store/job-fixtures.ts';

/**
 * Random operation sequences from several workers, the client and the reaper against the job
 * state machine (MemoryJobStore applies common/store/job-transitions.ts). The properties are the
 * ones the design promises: a terminal state is final, exactly one finish wins, every change is a
 * legal transition, and a worker whose claim was superseded can never write again.
 */

const WORKERS = ['w0', 'w1', 'w2'] as const;
type Worker = (typeof WORKERS)[number];

type Op =
  | { kind: 'tick'; ms: number }
  | { kind: 'claim'; worker: Worker; leaseMs: number }
  | { kind: 'progress'; worker: Worker; pass: number }
  | { kind: 'partial'; worker: Worker }
  | { kind: 'finish'; worker: Worker; to: TerminalState }
  | { kind: 'external'; to: 'cancelled' | 'expired' | 'failed' }
  | { kind: 'forged'; fenceDelta: number; to: TerminalState };

const worker = fc.constantFrom(...WORKERS);
const terminal = fc.constantFrom(...TERMINAL_STATES);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 5_000 }) }),
  fc.record({ kind: fc.constant('claim' as const), worker, leaseMs: fc.integer({ min: 1, max: 4_000 }) }),
  fc.record({ kind: fc.constant('progress' as const), worker, pass: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('partial' as const), worker }),
  fc.record({ kind: fc.constant('finish' as const), worker, to: terminal }),
  fc.record({
    kind: fc.constant('external' as const),
    to: fc.constantFrom('cancelled' as const, 'expired' as const, 'failed' as const),
  }),
  fc.record({
    kind: fc.constant('forged' as const),
    fenceDelta: fc.integer({ min: -3, max: 3 }),
    to: terminal,
  }),
);

interface Outcome {
  ok: boolean;
  code?: string;
  /** The fence the operation used (null = client/reaper). */
  fence: number | null;
}

async function apply(
  store: JobStore,
  id: string,
  o: Op,
  fences: Map<Worker, number>,
  clock: { now: number },
): Promise<Outcome> {
  const now = clock.now;
  switch (o.kind) {
    case 'tick':
      clock.now += o.ms;
      return { ok: true, fence: null };
    case 'claim': {
      const r = await store.claim(id, o.worker, o.leaseMs, now);
      if (r.ok) fences.set(o.worker, r.fence);
      return { ok: r.ok, code: r.ok ? undefined : r.code, fence: r.ok ? r.fence : null };
    }
    case 'progress': {
      const fence = fences.get(o.worker) ?? 0;
      const r = await store.progress(id, fence, o.pass, 4, now + 1_000, now);
      return { ok: r.ok, code: r.ok ? undefined : r.code, fence };
    }
    case 'partial': {
      const fence = fences.get(o.worker) ?? 0;
      const r = await store.addPartial(id, fence, `blob-${o.worker}-${now}`, now);
      return { ok: r.ok, code: r.ok ? undefined : r.code, fence };
    }
    case 'finish': {
      const fence = fences.get(o.worker) ?? 0;
      const r = await store.finish(id, fence, o.to, { error: { code: o.worker, message: 'x' } }, now);
      return { ok: r.ok, code: r.ok ? undefined : r.code, fence };
    }
    case 'external': {
      const r = await store.finish(id, null, o.to, {}, now);
      return { ok: r.ok, code: r.ok ? undefined : r.code, fence: null };
    }
    case 'forged': {
      const current = (await store.get(id))!.fence;
      const fence = Math.max(0, current + o.fenceDelta);
      const r = await store.finish(id, fence, o.to, {}, now);
      return { ok: r.ok, code: r.ok ? undefined : r.code, fence };
    }
  }
}

function isWrite(o: Op): boolean {
  return o.kind !== 'tick';
}

describe('job state machine (property-based)', () => {
  it('every legal transition list is closed over TRANSITIONS and terminal states have none', () => {
    for (const [from, tos] of Object.entries(TRANSITIONS)) {
      if (isTerminal(from as JobRecord['state'])) expect(tos).toEqual([]);
      for (const to of tos) expect(Object.keys(TRANSITIONS)).toContain(to);
    }
  });

  it('random operation sequences: terminal is final, one finish wins, transitions are legal, stale fences never write', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
        const store = new MemoryJobStore();
        const record = queuedRecord(T0, 30_000);
        await store.create(record);
        const clock = { now: T0 };
        const fences = new Map<Worker, number>();
        let finishes = 0;
        let terminalSnapshot: JobRecord | null = null;
        for (const o of ops) {
          const before = (await store.get(record.id))!;
          const out = await apply(store, record.id, o, fences, clock);
          const after = (await store.get(record.id))!;
          if (!isWrite(o)) continue;

          // Terminal is final: nothing changes a finished record, and the refusal says why.
          if (terminalSnapshot) {
            expect(out).toMatchObject({ ok: false, code: 'terminal' });
            expect(after).toEqual(terminalSnapshot);
            continue;
          }
          // A refused operation changes nothing.
          if (!out.ok) expect(after).toEqual(before);
          if (out.ok && after.state !== before.state) {
            expect(canTransition(before.state, after.state)).toBe(true);
          }
          // The fence only grows, and only a successful claim grows it (by exactly one).
          expect(after.fence).toBeGreaterThanOrEqual(before.fence);
          if (o.kind === 'claim' && out.ok) expect(after.fence).toBe(before.fence + 1);
          else expect(after.fence).toBe(before.fence);
          // A fenced write with anything but the current fence is refused.
          if (out.fence !== null && o.kind !== 'claim' && out.fence !== before.fence) {
            expect(out.ok).toBe(false);
          }
          // A live lease cannot be taken over.
          if (o.kind === 'claim' && before.state === 'running' && before.leaseUntil >= clock.now) {
            expect(out).toMatchObject({ ok: false, code: 'owned' });
          }
          if ((o.kind === 'finish' || o.kind === 'external' || o.kind === 'forged') && out.ok) {
            finishes++;
            expect(isTerminal(after.state)).toBe(true);
            expect(after.owner).toBeNull();
            expect(after.finishedAt).toBe(clock.now);
          }
          if (isTerminal(after.state)) terminalSnapshot = after;
        }
        expect(finishes).toBeLessThanOrEqual(1);
        expect(finishes === 1).toBe(terminalSnapshot !== null);
        // A finished record is never overdue, so the reaper cannot touch it.
        if (terminalSnapshot) expect(isOverdue(terminalSnapshot, clock.now + 1e9, 0)).toBe(false);
      }),
      { numRuns: 400 },
    );
  });

  it('concurrent finishes from the owner, a stale owner, the reaper and the client: exactly one wins', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('owner', 'stale', 'reaper', 'client'), { minLength: 2, maxLength: 8 }),
        fc.array(terminal, { minLength: 8, maxLength: 8 }),
        async (actors, targets) => {
          const store = new MemoryJobStore();
          const record = queuedRecord(T0, 30_000);
          await store.create(record);
          const stale = await store.claim(record.id, 'old', 10, T0);
          const owner = await store.claim(record.id, 'new', 60_000, T0 + 100);
          if (!stale.ok || !owner.ok) throw new Error('set-up claims failed');
          const results = await Promise.all(
            actors.map((a, i) => {
              const fence = a === 'owner' ? owner.fence : a === 'stale' ? stale.fence : null;
              const to = a === 'reaper' ? 'expired' : a === 'client' ? 'cancelled' : targets[i];
              return store.finish(record.id, fence, to, {}, T0 + 200);
            }),
          );
          const winners = results.filter((r) => r.ok);
          const eligible = actors.some((a) => a !== 'stale');
          expect(winners.length).toBe(eligible ? 1 : 0);
          results.forEach((r, i) => {
            if (actors[i] === 'stale') expect(r.ok).toBe(false);
          });
          const final = (await store.get(record.id))!;
          if (winners[0]?.ok) expect(final).toEqual(winners[0].record);
        },
      ),
      { numRuns: 300 },
    );
  });
});
