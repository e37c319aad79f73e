import { describe, expect, it } from 'vitest';
import { newJobRecord } from '../../../common/contracts/index.ts';
import { createMemoryInfra } from '../../../common/memory-infra.ts';
import { finishAndAnnounce } from '../../../common/store/finish-and-announce.ts';
import { MemoryEventLog } from '../../../common/store/memory-event-log.ts';
import { MemoryJobStore } from '../../../common/store/memory-job-store.ts';
import { jobMessage } from '../../inference/fixtures.ts';
import { finishAndAnnounceConformance } from './finish-and-announce-conformance.ts';

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

describe('finishAndAnnounce in memory: two calls', () => {
  finishAndAnnounceConformance(async () => ({ jobs: new MemoryJobStore(), events: new MemoryEventLog() }));

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
