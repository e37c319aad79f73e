import { describe, expect, it } from 'vitest';
import { isTerminal, type ProgressEvent } from '../../../common/contracts/index.ts';
import type { EventLog } from '../../../common/store/event-log.ts';
import { announceTerminal, finishAndAnnounce } from '../../../common/store/finish-and-announce.ts';
import type { JobStore } from '../../../common/store/job-store.ts';
import { queuedRecord, T0 } from './job-fixtures.ts';

type Stores = { jobs: JobStore; events: EventLog };

/**
 * finishAndAnnounce (terminal record + its terminal state event) against a job store and event log
 * pair: the atomic Redis script and the two-call path must keep one contract. `make` returns empty
 * stores.
 */
export function finishAndAnnounceConformance(make: () => Promise<Stores>) {
  async function queued(stores: Stores) {
    const record = queuedRecord();
    await stores.jobs.create(record);
    return record.id;
  }
  const ends = async (stores: Stores, id: string) =>
    (await stores.events.read(id, 0))
      .map((e) => e.event)
      .filter(
        (e): e is Extract<ProgressEvent, { type: 'state' }> => e.type === 'state' && isTerminal(e.state),
      );

  describe('finishAndAnnounce', () => {
    it("finishes and logs one terminal state event at the record's pass", async () => {
      const stores = await make();
      const id = await queued(stores);
      const r = await finishAndAnnounce(stores, id, null, 'cancelled', {}, T0 + 5);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.record).toMatchObject({ state: 'cancelled', finishedAt: T0 + 5 });
      expect(await stores.jobs.get(id)).toEqual(r.record);
      expect(await ends(stores, id)).toEqual([
        { type: 'state', state: 'cancelled', pass: 0, passes: 4, at: T0 + 5 },
      ]);
      expect(await announceTerminal(stores.events, r.record)).toBe(false);
      expect(await ends(stores, id)).toHaveLength(1);
    });

    it('reports the pass it is given, and keeps the result', async () => {
      const stores = await make();
      const id = await queued(stores);
      const claimed = await stores.jobs.claim(id, 'w1', 30_000, T0 + 1);
      if (!claimed.ok) throw new Error('claim failed');
      const usage = {
        input_tokens: 1,
        output_tokens: 2,
        total_tokens: 3,
        input_tokens_details: { text_tokens: 1, image_tokens: 0 },
      };
      const result = { created: 1, images: [], usage };
      const r = await finishAndAnnounce(stores, id, claimed.fence, 'completed', { result }, T0 + 9, {
        pass: 8,
        passes: 8,
      });
      expect(r.ok && r.record.state).toBe('completed');
      expect((await stores.jobs.get(id))?.result).toEqual(result);
      expect(await ends(stores, id)).toEqual([
        { type: 'state', state: 'completed', pass: 8, passes: 8, at: T0 + 9 },
      ]);
    });

    it('a finish that loses (stale fence, already terminal) appends nothing', async () => {
      const stores = await make();
      const id = await queued(stores);
      const claimed = await stores.jobs.claim(id, 'w1', 30_000, T0 + 1);
      if (!claimed.ok) throw new Error('claim failed');
      const stale = await finishAndAnnounce(stores, id, claimed.fence + 1, 'completed', {}, T0 + 2);
      expect(stale).toMatchObject({ ok: false, code: 'fenced' });
      expect(await ends(stores, id)).toEqual([]);
      await finishAndAnnounce(stores, id, null, 'cancelled', {}, T0 + 3);
      const late = await finishAndAnnounce(stores, id, claimed.fence, 'completed', {}, T0 + 4);
      expect(late).toMatchObject({ ok: false, code: 'terminal' });
      expect((await ends(stores, id)).map((e) => e.state)).toEqual(['cancelled']);
    });

    it('wakes watchers of the job', async () => {
      const stores = await make();
      const id = await queued(stores);
      const woke = new Promise<void>((resolve) => {
        const stop = stores.events.watch(id, () => {
          stop();
          resolve();
        });
      });
      await new Promise((r) => setTimeout(r, 50));
      await finishAndAnnounce(stores, id, null, 'cancelled', {}, T0 + 5);
      await woke;
    });
  });
}
