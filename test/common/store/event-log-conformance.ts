import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../../common/contracts/index.ts';
import type { EventLog } from '../../../common/store/event-log.ts';
import type { MakeExpiring } from './expiring.ts';
import { jobId } from './job-fixtures.ts';

const state = (pass: number): ProgressEvent => ({
  type: 'state',
  state: 'running',
  pass,
  passes: 4,
  at: 1_000 + pass,
});

function nextWake(log: EventLog, id: string): { woke: Promise<void>; stop: () => void } {
  let stop = () => {};
  const woke = new Promise<void>((resolve) => {
    stop = log.watch(id, resolve);
  });
  return { woke, stop };
}

/** Long enough for Redis over a busy machine to answer well inside it, short enough to wait out. */
const RETENTION_MS = 1_500;

/**
 * The EventLog contract, run against the memory and Redis implementations; `makeExpiring` makes a
 * log that keeps a job's events for the given retention after its last append.
 */
export function eventLogConformance(makeLog: () => Promise<EventLog>, makeExpiring: MakeExpiring<EventLog>) {
  describe('EventLog', () => {
    it('numbers events 1, 2, … per job and reads those after a sequence number', async () => {
      const log = await makeLog();
      const a = jobId();
      const b = jobId();
      expect(await log.append(a, state(1))).toBe(1);
      expect(await log.append(a, state(2))).toBe(2);
      expect(await log.append(b, state(1))).toBe(1);
      const partial: ProgressEvent = {
        type: 'partial',
        index: 0,
        pass: 3,
        passes: 4,
        blob: 'p/0.png',
        width: 32,
        height: 32,
        at: 1_234.5,
      };
      expect(await log.append(a, partial)).toBe(3);
      expect(await log.read(a, 0)).toEqual([
        { seq: 1, event: state(1) },
        { seq: 2, event: state(2) },
        { seq: 3, event: partial },
      ]);
      expect((await log.read(a, 2)).map((e) => e.seq)).toEqual([3]);
      expect(await log.read(a, 3)).toEqual([]);
      expect(await log.read(jobId(), 0)).toEqual([]);
    });

    it('keeps order under concurrent appends', async () => {
      const log = await makeLog();
      const id = jobId();
      const seqs = await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(id, state(i))));
      expect([...seqs].sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const read = await log.read(id, 0);
      expect(read.map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    });

    it('wakes a watcher after an append to its job, and stops after unsubscribe', async () => {
      const log = await makeLog();
      const id = jobId();
      const w = nextWake(log, id);
      // Give a subscription time to register before appending (the wake-up is not retroactive).
      await new Promise((r) => setTimeout(r, 50));
      await log.append(id, state(1));
      await w.woke;
      w.stop();
      let woken = 0;
      const stop = log.watch(id, () => woken++);
      stop();
      await log.append(id, state(2));
      await new Promise((r) => setTimeout(r, 100));
      expect(woken).toBe(0);
      expect((await log.read(id, 0)).length).toBe(2);
    });

    it('wakes several watchers of the same job', async () => {
      const log = await makeLog();
      const id = jobId();
      const watchers = [nextWake(log, id), nextWake(log, id), nextWake(log, id)];
      await new Promise((r) => setTimeout(r, 50));
      await log.append(id, state(1));
      await Promise.all(watchers.map((w) => w.woke));
      for (const w of watchers) w.stop();
    });

    it("drops a job's events once the retention has passed since its last append", async () => {
      const { store: log, elapse } = await makeExpiring(RETENTION_MS);
      const id = jobId();
      const other = jobId();
      await log.append(id, state(1));
      await log.append(other, state(1));
      await elapse(RETENTION_MS * 0.6);
      await log.append(id, state(2));
      await elapse(RETENTION_MS * 0.6);
      // 1.2 × retention after the first append, 0.6 × after the last: all of it is still there.
      expect((await log.read(id, 0)).map((e) => e.seq)).toEqual([1, 2]);
      expect(await log.read(other, 0)).toEqual([]);
      await elapse(RETENTION_MS * 0.6);
      expect(await log.read(id, 0)).toEqual([]);
    });
  });
}
