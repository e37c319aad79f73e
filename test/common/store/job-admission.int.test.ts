import { describe, expect, it } from 'vitest';
import { admitJob } from '../../../common/store/job-admission.ts';
import { redisFixture } from '../redis-fixture.ts';
import { redisStorePairs } from './redis-store-pair.ts';
import { jobAdmissionConformance } from './job-admission-conformance.ts';
import { queuedRecord } from './job-fixtures.ts';

describe('admitJob on Redis', () => {
  const redis = redisFixture();
  const make = redisStorePairs(redis);

  describe('one client: one atomic script', () => {
    jobAdmissionConformance(() => make(false));

    it('takes one round trip and issues no ticket for a repeat', async () => {
      const { jobs, events } = await make(false);
      const idem = { account: 'acct_a', key: 'once', ttlMs: 60_000 };
      const queued = { type: 'state', state: 'queued', pass: 0, passes: 4, at: 1 } as const;
      // Loads the script on the server first: a cold EVALSHA is answered NOSCRIPT and retried as EVAL.
      await admitJob(jobs, events, queuedRecord(), undefined, queued);
      const sent: string[] = [];
      const client = jobs.redis;
      const original = client.sendCommand.bind(client);
      client.sendCommand = (command) => {
        sent.push(command.name);
        return original(command);
      };
      try {
        await admitJob(jobs, events, queuedRecord(), idem, {
          type: 'state',
          state: 'queued',
          pass: 0,
          passes: 4,
          at: 1,
        });
        expect(sent).toEqual(['evalsha']);
        await admitJob(jobs, events, queuedRecord(), idem, {
          type: 'state',
          state: 'queued',
          pass: 0,
          passes: 4,
          at: 1,
        });
      } finally {
        client.sendCommand = original;
      }
      expect(await jobs.queueStats()).toEqual([{ lane: 'chat', tier: 'free', issued: 2, served: 0 }]);
    });
  });

  describe('event log on another client: three calls', () => {
    jobAdmissionConformance(() => make(true));
  });
});
