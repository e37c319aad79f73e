import { describe, expect, it } from 'vitest';
import { newJobRecord } from '../../../common/contracts/index.ts';
import { createMemoryInfra } from '../../../common/memory-infra.ts';
import { announceTerminal, finishAndAnnounce } from '../../../common/store/finish-and-announce.ts';
import { jobMessage } from '../../inference/fixtures.ts';

async function queuedJob() {
  const infra = createMemoryInfra();
  const m = jobMessage();
  await infra.jobs.create(newJobRecord(m, 1, 4, Date.now()));
  const terminalEvents = async () =>
    (await infra.events.read(m.id, 0)).filter(
      (e) => e.event.type === 'state' && e.event.state === 'cancelled',
    );
  return { infra, id: m.id, terminalEvents };
}

describe('finishAndAnnounce', () => {
  it('finishes and logs exactly one terminal event, however often it is announced', async () => {
    const { infra, id, terminalEvents } = await queuedJob();
    const r = await finishAndAnnounce(infra, id, null, 'cancelled', {}, Date.now());
    expect(r.ok).toBe(true);
    if (r.ok) expect(await announceTerminal(infra.events, r.record)).toBe(false);
    expect(await terminalEvents()).toHaveLength(1);
  });

  it('a finish applied by the store whose reply was lost still counts and is announced', async () => {
    const { infra, id, terminalEvents } = await queuedJob();
    const real = infra.jobs.finish.bind(infra.jobs);
    infra.jobs.finish = async (...args: Parameters<typeof real>) => {
      await real(...args);
      throw new Error('Command timed out');
    };
    const r = await finishAndAnnounce(infra, id, null, 'cancelled', {}, Date.now());
    expect(r.ok).toBe(true);
    expect(await terminalEvents()).toHaveLength(1);
  });

  it('a finish that failed without applying rethrows and announces nothing', async () => {
    const { infra, id, terminalEvents } = await queuedJob();
    infra.jobs.finish = async () => {
      throw new Error('Connection is closed');
    };
    await expect(finishAndAnnounce(infra, id, null, 'cancelled', {}, Date.now())).rejects.toThrow('closed');
    expect(await terminalEvents()).toHaveLength(0);
  });
});
