import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FaultSwitches } from '../../../common/fault-switches.ts';
import { MemoryQueue } from '../../../common/queue/memory-queue.ts';
import { SwitchedQueue } from '../../../common/queue/switched-queue.ts';
import { eventually } from '../eventually.ts';
import { collector, queueConformance } from './queue-conformance.ts';

const message = (i: number) => ({ key: 'k', value: Buffer.from(`m${i}`), headers: {} });

/** Settles to 'rejected' or 'resolved', or 'pending' if still waiting after `ms`. */
function settledWithin(p: Promise<unknown>, ms: number) {
  return Promise.race([
    p.then(
      () => 'resolved',
      () => 'rejected',
    ),
    sleep(ms).then(() => 'pending'),
  ]);
}

function switchedQueue(publishRetryMs = 50) {
  const switches = new FaultSwitches();
  const inner = new MemoryQueue();
  return { queue: new SwitchedQueue(inner, switches, publishRetryMs), inner, switches };
}

describe('SwitchedQueue', () => {
  // With the broker up it is the queue it wraps, contract and all.
  queueConformance(async () => switchedQueue().queue);

  describe('restart-kafka switch', () => {
    it('holds a publish while the broker is down for as long as the producer retries, then refuses it', async () => {
      const { queue, inner, switches } = switchedQueue(400);
      await queue.ensureTopics(['t']);
      switches.queueOutage();
      const publish = queue.publish('t', message(0));
      // A producer retrying: not refused at once...
      expect(await settledWithin(publish, 150)).toBe('pending');
      // ...but refused once its retries are spent, with nothing written.
      await expect(publish).rejects.toMatchObject({ code: 'queue_publish_failed' });
      expect(inner.held('t')).toBe(0);
    });

    it('lets a held publish through when the broker comes back while it retries', async () => {
      const { queue, switches } = switchedQueue(5_000);
      await queue.ensureTopics(['t']);
      const up = switches.queueOutage();
      const publish = queue.publish('t', message(0));
      expect(await settledWithin(publish, 50)).toBe('pending');
      up();
      await publish;
      expect(await queue.lag('g', ['t'])).toEqual({ t: 1 });
    });

    it('refuses publishes as KafkaQueue does while the broker is down, is unhealthy, and accepts again after', async () => {
      const { queue, switches } = switchedQueue();
      await queue.ensureTopics(['t']);
      const up = switches.queueOutage();
      await expect(queue.publish('t', message(0))).rejects.toMatchObject({ code: 'queue_publish_failed' });
      await expect(queue.lag('g', ['t'])).rejects.toMatchObject({ code: 'dependency_unavailable' });
      await expect(queue.ensureTopics(['u'])).rejects.toMatchObject({ code: 'dependency_unavailable' });
      expect(await queue.healthy()).toBe(false);
      up();
      expect(await queue.healthy()).toBe(true);
      await queue.publish('t', message(1));
      expect(await queue.lag('g', ['t'])).toEqual({ t: 1 });
    });

    it('delivers nothing while down; afterwards the unacked are delivered again and old acks are void', async () => {
      const { queue, inner, switches } = switchedQueue();
      await queue.ensureTopics(['t']);
      for (let i = 0; i < 3; i++) await queue.publish('t', message(i));
      // m1 is never acked by the member from before the outage.
      const c = collector((d) => {
        if (d.value.toString() !== 'm1') d.ack();
      });
      const consumer = await queue.consume({ groupId: 'g', topics: ['t'], onMessage: c.onMessage });
      await c.waitFor(3);
      const unackedBefore = c.got[1];
      const up = switches.queueOutage();
      // Already in the topic (written straight to it), so only the paused fetching holds it back.
      await inner.publish('t', message(3));
      await sleep(100);
      expect(c.values()).toEqual(['m0', 'm1', 'm2']);
      up();
      await c.waitFor(5);
      expect(c.values().slice(3).sort()).toEqual(['m1', 'm3']);
      // The ack of the delivery from before the outage is void: m1 stays uncommitted until its redelivery is acked.
      unackedBefore.ack();
      await sleep(50);
      expect(await queue.lag('g', ['t'])).toEqual({ t: 3 });
      for (const d of c.got.slice(3)) d.ack();
      await eventually(async () => expect(await queue.lag('g', ['t'])).toEqual({ t: 0 }));
      await consumer.close();
    });

    it('keeps a topic its user paused paused across the outage, and resumes it on request', async () => {
      const { queue, switches } = switchedQueue();
      await queue.ensureTopics(['a', 'b']);
      const c = collector((d) => d.ack());
      const consumer = await queue.consume({ groupId: 'g', topics: ['a', 'b'], onMessage: c.onMessage });
      consumer.pause(['a']);
      const up = switches.queueOutage();
      consumer.resume(['b']);
      up();
      await queue.publish('a', message(0));
      await queue.publish('b', message(1));
      await c.waitFor(1);
      await sleep(100);
      expect(c.values()).toEqual(['m1']);
      consumer.resume(['a']);
      await c.waitFor(2);
      expect(c.values()).toEqual(['m1', 'm0']);
      await consumer.close();
    });

    it('refuses a new consumer while down', async () => {
      const { queue, switches } = switchedQueue();
      switches.queueOutage();
      await expect(queue.consume({ groupId: 'g', topics: ['t'], onMessage: () => {} })).rejects.toMatchObject(
        {
          code: 'dependency_unavailable',
        },
      );
    });
  });
});
