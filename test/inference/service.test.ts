import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { jobTopic, WorkerSignal } from '../../common/contracts/index.ts';
import { createMemoryInfra } from '../../common/memory-infra.ts';
import { StaticPolicySource } from '../../common/policy/policy-source.ts';
import { startInference } from '../../inference/service.ts';
import { enqueue, jobMessage, testModels, testPolicy } from './fixtures.ts';

describe('startInference', () => {
  it('runs jobs on model threads and reports a worker signal', async () => {
    await testModels();
    const infra = createMemoryInfra();
    const service = await startInference({
      infra,
      policy: new StaticPolicySource(await testPolicy()),
      log: pino({ level: 'silent' }),
      workerId: 'svc-1',
      slots: 2,
      lanes: ['chat'],
    });
    try {
      const m = jobMessage({ lane: 'chat', tier: 'free', params: { size: '512x512' } });
      await enqueue(infra, m);
      await infra.queue.publish(jobTopic('chat', 'free'), {
        key: m.id,
        value: Buffer.from(JSON.stringify(m)),
        headers: {},
      });
      const end = Date.now() + 15_000;
      while ((await infra.jobs.get(m.id))?.state !== 'completed' && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await infra.jobs.get(m.id))?.state).toBe('completed');
      const signals = (await infra.coord.readSignals()).filter((s) => s.source === 'worker');
      expect(signals).toHaveLength(1);
      const s = WorkerSignal.parse(signals[0]);
      expect(s).toMatchObject({ id: 'svc-1', slotsTotal: 2, lanes: ['chat'] });
      expect(s.baselinePassMs).toBeGreaterThan(0);
    } finally {
      await service.close();
    }
  });
});
