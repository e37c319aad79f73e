import { describe, expect, it } from 'vitest';
import { finishAndAnnounce } from '../../../common/store/finish-and-announce.ts';
import type { RedisJobStore } from '../../../common/store/redis-job-store.ts';
import { redisFixture } from '../redis-fixture.ts';
import { redisStorePairs } from './redis-store-pair.ts';
import { finishAndAnnounceConformance } from './finish-and-announce-conformance.ts';
import { queuedRecord, T0 } from './job-fixtures.ts';

describe('finishAndAnnounce on Redis', () => {
  const redis = redisFixture();
  const make = redisStorePairs(redis);
  const queued = async (jobs: RedisJobStore) => {
    const record = queuedRecord();
    await jobs.create(record);
    return record.id;
  };

  describe('one client: one atomic script', () => {
    finishAndAnnounceConformance(() => make(false));

    it('writes the finish and its event in one round trip, never through a separate append', async () => {
      const { jobs, events } = await make(false);
      // Loads the script on the server first: a cold EVALSHA is answered NOSCRIPT and retried as EVAL.
      await finishAndAnnounce({ jobs, events }, await queued(jobs), null, 'cancelled', {}, T0);
      const id = await queued(jobs);
      // Two writes failed between them in a chaos run: a completed job whose end was never logged.
      events.append = () => Promise.reject(new Error('Connection is closed'));
      const sent: string[] = [];
      const original = jobs.redis.sendCommand.bind(jobs.redis);
      jobs.redis.sendCommand = (command) => {
        sent.push(command.name);
        return original(command);
      };
      try {
        const r = await finishAndAnnounce({ jobs, events }, id, null, 'cancelled', {}, T0 + 1);
        expect(r.ok).toBe(true);
      } finally {
        jobs.redis.sendCommand = original;
      }
      expect(sent).toEqual(['evalsha']);
      expect((await events.read(id, 0)).map((e) => e.event)).toEqual([
        { type: 'state', state: 'cancelled', pass: 0, passes: 4, at: T0 + 1 },
      ]);
    });

    it('a finish applied whose reply was lost is announced once, not twice', async () => {
      const { jobs, events } = await make(false);
      const id = await queued(jobs);
      const real = jobs.finishAnnounced.bind(jobs);
      jobs.finishAnnounced = async (...args: Parameters<typeof real>) => {
        await real(...args);
        throw new Error('Command timed out');
      };
      const r = await finishAndAnnounce({ jobs, events }, id, null, 'cancelled', {}, T0 + 1);
      expect(r.ok).toBe(true);
      expect(await events.read(id, 0)).toHaveLength(1);
    });
  });

  describe('event log on another client: two calls', () => {
    finishAndAnnounceConformance(() => make(true));
  });
});
