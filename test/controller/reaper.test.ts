import { describe, expect, it } from 'vitest';
import { type JobMessage, jobTopic, newJobRecord } from '../../common/contracts/index.ts';
import { createMemoryInfra } from '../../common/memory-infra.ts';
import { Reaper } from '../../controller/reaper.ts';

const NOW = 10_000_000;

function message(id: string, createdAt: number, deadline: number): JobMessage {
  return {
    v: 1,
    id: `job_${id.padEnd(24, '0')}`,
    account: 'acct',
    tier: 'free',
    lane: 'chat',
    operation: 'generate',
    cost: 1,
    prompt: 'a lighthouse',
    params: {
      model: 'm',
      size: '256x256',
      quality: 'low',
      outputFormat: 'png',
      background: 'auto',
      partialImages: 0,
      n: 1,
      seed: 1,
      responseFormat: 'b64_json',
    },
    inputImages: [],
    deadline,
    attempt: 0,
    trace: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
    brownout: null,
    createdAt,
  };
}

async function setup() {
  const infra = createMemoryInfra();
  const published: { topic: string; value: JobMessage }[] = [];
  const publish = infra.queue.publish.bind(infra.queue);
  infra.queue.publish = async (topic, m) => {
    published.push({ topic, value: JSON.parse(m.value.toString()) });
    return publish(topic, m);
  };
  const add = async (id: string, createdAt: number, deadline: number) => {
    const ticket = await infra.jobs.nextTicket('chat', 'free');
    const rec = newJobRecord(message(id, createdAt, deadline), ticket, 4, createdAt);
    await infra.jobs.create(rec);
    return rec;
  };
  return { infra, published, add, reaper: new Reaper(infra, { unclaimedMs: 30_000, limit: 100 }) };
}

describe('reaper', () => {
  it('expires a queued job past its deadline, with a terminal event', async () => {
    const { infra, add, reaper, published } = await setup();
    const rec = await add('expired', NOW - 200_000, NOW - 1);
    const r = await reaper.sweep(NOW);
    expect(r.expired).toBe(1);
    expect((await infra.jobs.get(rec.id))?.state).toBe('expired');
    const events = await infra.events.read(rec.id, 0);
    expect(events.at(-1)?.event).toMatchObject({ type: 'state', state: 'expired' });
    expect(published).toHaveLength(0);
  });

  it('re-publishes a job whose worker lease lapsed, once, with attempt + 1', async () => {
    const { infra, add, reaper, published } = await setup();
    const rec = await add('lapsed', NOW - 60_000, NOW + 60_000);
    await infra.jobs.claim(rec.id, 'worker-a', 5_000, NOW - 50_000);
    await infra.jobs.markServed('chat', 'free', rec.ticket);
    expect((await reaper.sweep(NOW)).requeued).toBe(1);
    expect(published[0].topic).toBe(jobTopic('chat', 'free'));
    expect(published[0].value.attempt).toBe(2);
    expect((await reaper.sweep(NOW + 1000)).requeued).toBe(0);
    // Another worker took it over and lost it again: it is due once more.
    await infra.jobs.claim(rec.id, 'worker-b', 1_000, NOW + 2000);
    expect((await reaper.sweep(NOW + 5000)).requeued).toBe(1);
  });

  it('re-publishes a queued job the workers passed over, but not one still waiting its turn', async () => {
    const { infra, add, reaper, published } = await setup();
    const skipped = await add('skipped', NOW - 60_000, NOW + 60_000);
    const waiting = await add('waiting', NOW - 60_000, NOW + 60_000);
    await infra.jobs.markServed('chat', 'free', skipped.ticket);
    const r = await reaper.sweep(NOW);
    expect(r.requeued).toBe(1);
    expect(published.map((p) => p.value.id)).toEqual([skipped.id]);
    expect((await infra.jobs.get(waiting.id))?.state).toBe('queued');
  });
});
