import { describe, expect, it } from 'vitest';
import { MemoryQueue } from '../../../common/queue/memory-queue.ts';
import type { Delivery } from '../../../common/queue/queue.ts';
import { eventually } from '../eventually.ts';
import { collector, queueConformance } from './queue-conformance.ts';

const message = (i: number) => ({ key: 'k', value: Buffer.from(`m${i}`), headers: {} });

describe('MemoryQueue', () => {
  queueConformance(async () => new MemoryQueue());

  describe('bounded memory', () => {
    it('releases what every subscribed group committed, and keeps counting offsets from there', async () => {
      const queue = new MemoryQueue();
      for (let i = 0; i < 1_000; i++) await queue.publish('t', message(i));
      const fast = collector((d) => d.ack());
      const slow = collector();
      const a = await queue.consume({ groupId: 'fast', topics: ['t'], onMessage: fast.onMessage });
      const b = await queue.consume({ groupId: 'slow', topics: ['t'], onMessage: slow.onMessage });
      await Promise.all([fast.waitFor(1_000), slow.waitFor(1_000)]);
      // `slow` has committed nothing: everything stays.
      expect(queue.held('t')).toBe(1_000);
      for (const d of slow.got.slice(0, 600)) d.ack();
      expect(queue.held('t')).toBe(400);
      for (const d of slow.got.slice(600)) d.ack();
      expect(queue.held('t')).toBe(0);

      await queue.publish('t', message(1_000));
      await fast.waitFor(1_001);
      expect(fast.got[1_000].offset).toBe('1000');
      expect(await queue.lag('slow', ['t'])).toEqual({ t: 1 });
      await Promise.all([a.close(), b.close()]);
    });

    it('starts a new group at the oldest message still held', async () => {
      const queue = new MemoryQueue();
      for (let i = 0; i < 5; i++) await queue.publish('t', message(i));
      const first = collector((d) => d.ack());
      const a = await queue.consume({ groupId: 'a', topics: ['t'], onMessage: first.onMessage });
      await first.waitFor(5);
      await queue.publish('t', message(5));
      await first.waitFor(6);
      await a.close();
      await queue.publish('t', message(6));
      expect(queue.held('t')).toBe(1);
      expect(await queue.lag('b', ['t'])).toEqual({ t: 1 });
      const late = collector((d) => d.ack());
      const b = await queue.consume({ groupId: 'b', topics: ['t'], onMessage: late.onMessage });
      await late.waitFor(1);
      expect(late.got.map((d) => [d.offset, d.value.toString()])).toEqual([['6', 'm6']]);
      await b.close();
    });

    it('holds a subscribed group’s messages while it is paused, and redelivers them after a leave', async () => {
      const queue = new MemoryQueue();
      const held: Delivery[] = [];
      const c = await queue.consume({
        groupId: 'g',
        topics: ['t'],
        onMessage: (d) => {
          held.push(d);
        },
      });
      c.pause(['t']);
      const other = collector((d) => d.ack());
      const o = await queue.consume({ groupId: 'other', topics: ['t'], onMessage: other.onMessage });
      for (let i = 0; i < 3; i++) await queue.publish('t', message(i));
      await other.waitFor(3);
      expect(queue.held('t')).toBe(3);
      c.resume(['t']);
      await eventually(() => expect(held).toHaveLength(3));
      held[0].ack();
      expect(queue.held('t')).toBe(2);
      await c.close();
      const again = collector((d) => d.ack());
      const c2 = await queue.consume({ groupId: 'g', topics: ['t'], onMessage: again.onMessage });
      await again.waitFor(2);
      expect(again.values()).toEqual(['m1', 'm2']);
      expect(queue.held('t')).toBe(0);
      await Promise.all([o.close(), c2.close()]);
    });
  });
});
