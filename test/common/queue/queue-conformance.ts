import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Consumer, Delivery, Queue } from '../../../common/queue/queue.ts';
import { eventually } from '../eventually.ts';

/** Collects deliveries and lets a test wait for a count. */
export function collector(onEach?: (d: Delivery) => void) {
  const got: Delivery[] = [];
  return {
    got,
    onMessage(d: Delivery) {
      got.push(d);
      onEach?.(d);
    },
    values: () => got.map((d) => d.value.toString()),
    waitFor: (n: number, timeoutMs = 20_000) =>
      eventually(() => {
        if (got.length < n) throw new Error(`got ${got.length} of ${n} deliveries`);
        return got;
      }, timeoutMs),
  };
}

const unique = (what: string) => `${what}-${randomBytes(5).toString('hex')}`;

function message(i: number, key = 'same-key') {
  return { key, value: Buffer.from(`m${i}`), headers: { traceparent: `t-${i}`, 'x-n': String(i) } };
}

/**
 * The Queue contract, run against MemoryQueue (unit) and KafkaQueue (integration). Every test uses
 * its own topics and groups. Messages of one test share a key, so Kafka keeps them in one
 * partition and "in order" is meaningful for both implementations.
 */
export function queueConformance(makeQueue: () => Promise<Queue>) {
  const consumers: Consumer[] = [];
  const consume = async (
    queue: Queue,
    groupId: string,
    topics: string[],
    onMessage: (d: Delivery) => void,
  ) => {
    const c = await queue.consume({ groupId, topics, onMessage });
    consumers.push(c);
    return c;
  };
  afterEach(async () => {
    await Promise.all(consumers.splice(0).map((c) => c.close()));
  });

  describe('Queue', () => {
    it('delivers each published message once with key, value and headers intact, in order', async () => {
      const queue = await makeQueue();
      const topic = unique('t');
      await queue.ensureTopics([topic]);
      await queue.ensureTopics([topic]);
      for (let i = 0; i < 5; i++) await queue.publish(topic, message(i));
      const c = collector((d) => d.ack());
      await consume(queue, unique('g'), [topic], c.onMessage);
      await c.waitFor(5);
      await sleep(200);
      expect(c.values()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
      expect(c.got[3]).toMatchObject({ topic, key: 'same-key', headers: { traceparent: 't-3', 'x-n': '3' } });
      expect(new Set(c.got.map((d) => `${d.partition}/${d.offset}`)).size).toBe(5);
    });

    it('publishes concurrently without losing messages', async () => {
      const queue = await makeQueue();
      const topic = unique('t');
      await queue.ensureTopics([topic]);
      await Promise.all(Array.from({ length: 50 }, (_, i) => queue.publish(topic, message(i, `k${i}`))));
      expect(await queue.lag(unique('g'), [topic])).toEqual({ [topic]: 50 });
    });

    it('reports lag as published minus committed, per topic', async () => {
      const queue = await makeQueue();
      const [a, b] = [unique('t'), unique('t')];
      await queue.ensureTopics([a, b]);
      for (let i = 0; i < 4; i++) await queue.publish(a, message(i));
      await queue.publish(b, message(9));
      const group = unique('g');
      expect(await queue.lag(group, [a, b])).toEqual({ [a]: 4, [b]: 1 });
      const c = collector((d) => {
        if (d.topic === a) d.ack();
      });
      await consume(queue, group, [a, b], c.onMessage);
      await c.waitFor(5);
      await eventually(async () => expect(await queue.lag(group, [a, b])).toEqual({ [a]: 0, [b]: 1 }));
    });

    it('commits only below the first unacked message, and redelivers from there after the consumer leaves', async () => {
      const queue = await makeQueue();
      const topic = unique('t');
      const group = unique('g');
      await queue.ensureTopics([topic]);
      for (let i = 0; i < 5; i++) await queue.publish(topic, message(i));
      // Acks arrive out of order and m2 never does.
      const first = collector();
      const c1 = await consume(queue, group, [topic], first.onMessage);
      await first.waitFor(5);
      for (const i of [4, 0, 3, 1]) first.got[i].ack();
      await eventually(async () => expect(await queue.lag(group, [topic])).toEqual({ [topic]: 3 }));
      await c1.close();

      const second = collector();
      await consume(queue, group, [topic], second.onMessage);
      await second.waitFor(1);
      await sleep(300);
      // m2 comes back; m3 and m4 may too (Kafka commits offsets, not individual acks) but m0, m1 never.
      expect(second.values()[0]).toBe('m2');
      expect(second.values().every((v) => ['m2', 'm3', 'm4'].includes(v))).toBe(true);
      for (const d of second.got) d.ack();
      await eventually(async () => expect(await queue.lag(group, [topic])).toEqual({ [topic]: 0 }));
    });

    it('ignores a late ack from a consumer that already left', async () => {
      const queue = await makeQueue();
      const topic = unique('t');
      const group = unique('g');
      await queue.ensureTopics([topic]);
      await queue.publish(topic, message(0));
      const first = collector();
      const c1 = await consume(queue, group, [topic], first.onMessage);
      await first.waitFor(1);
      await c1.close();
      const second = collector();
      await consume(queue, group, [topic], second.onMessage);
      await second.waitFor(1);
      first.got[0].ack();
      await sleep(300);
      expect(await queue.lag(group, [topic])).toEqual({ [topic]: 1 });
      second.got[0].ack();
      await eventually(async () => expect(await queue.lag(group, [topic])).toEqual({ [topic]: 0 }));
    });

    it('stops delivering a paused topic and resumes where it stopped', async () => {
      const queue = await makeQueue();
      const [slow, other] = [unique('t'), unique('t')];
      await queue.ensureTopics([slow, other]);
      for (let i = 0; i < 6; i++) await queue.publish(slow, message(i));
      let consumer: Consumer | null = null;
      const c = collector((d) => {
        d.ack();
        // Pause as soon as the first message arrives, as a full worker does.
        if (d.topic === slow && d.value.toString() === 'm0') consumer?.pause([slow]);
      });
      consumer = await consume(queue, unique('g'), [slow, other], c.onMessage);
      await c.waitFor(1);
      await queue.publish(other, message(100, 'x'));
      await eventually(() => expect(c.values()).toContain('m100'));
      await sleep(300);
      expect(c.got.filter((d) => d.topic === slow).map((d) => d.value.toString())).toEqual(['m0']);
      consumer.resume([slow]);
      await c.waitFor(7);
      expect(c.got.filter((d) => d.topic === slow).map((d) => d.value.toString())).toEqual([
        'm0',
        'm1',
        'm2',
        'm3',
        'm4',
        'm5',
      ]);
    });

    it('gives every group its own copy of the stream', async () => {
      const queue = await makeQueue();
      const topic = unique('t');
      await queue.ensureTopics([topic]);
      for (let i = 0; i < 3; i++) await queue.publish(topic, message(i));
      const a = collector((d) => d.ack());
      const b = collector((d) => d.ack());
      await consume(queue, unique('g'), [topic], a.onMessage);
      await consume(queue, unique('g'), [topic], b.onMessage);
      await Promise.all([a.waitFor(3), b.waitFor(3)]);
      expect(a.values()).toEqual(b.values());
    });

    it('is healthy while its broker is up', async () => {
      const queue = await makeQueue();
      expect(await queue.healthy()).toBe(true);
    });
  });
}
