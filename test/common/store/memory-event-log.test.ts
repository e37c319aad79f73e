import { describe, expect, it } from 'vitest';
import type { ProgressEvent } from '../../../common/contracts/index.ts';
import { MemoryEventLog } from '../../../common/store/memory-event-log.ts';
import { DEFAULT_TERMINAL_RETENTION_MS } from '../../../common/store/retention.ts';
import { eventLogConformance } from './event-log-conformance.ts';
import { fakeClock } from './expiring.ts';
import { jobId, T0 } from './job-fixtures.ts';

const queued: ProgressEvent = { type: 'state', state: 'queued', pass: 0, passes: 4, at: 1 };

describe('MemoryEventLog', () => {
  eventLogConformance(
    async () => new MemoryEventLog(),
    async (retentionMs) => {
      const clock = fakeClock(T0);
      return { store: new MemoryEventLog({ retentionMs, now: clock.now }), elapse: clock.elapse };
    },
  );

  it('holds no job once every log is past its retention (default: Redis’s 7 days)', async () => {
    const clock = fakeClock(T0);
    const log = new MemoryEventLog({ now: clock.now });
    for (let i = 0; i < 100; i++) {
      const id = jobId();
      await log.append(id, queued);
      await log.append(id, { ...queued, state: 'running' });
      await clock.elapse(1_000);
    }
    expect(log.size()).toBe(100);
    // Now the first 50 jobs' last appends are just over the retention ago, the other 50 within it.
    await clock.elapse(DEFAULT_TERMINAL_RETENTION_MS - 50_500);
    await log.read(jobId(), 0);
    expect(log.size()).toBe(50);
    await clock.elapse(50_000);
    await log.read(jobId(), 0);
    expect(log.size()).toBe(0);
  });
});
