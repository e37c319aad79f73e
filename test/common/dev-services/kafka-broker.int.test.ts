import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kafkaReady, startKafkaBroker } from '../../../common/dev-services/kafka-broker.ts';

const SCHED_IDLE = 5;

/** The scheduling policy of every thread of a process (field 41 of /proc/<pid>/task/<tid>/stat). */
function threadPolicies(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: count fields after its close.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]);
  });
}

describe('a Kafka broker started in the background CPU class', () => {
  it('runs every JVM thread under SCHED_IDLE, and serves', async () => {
    const broker = await startKafkaBroker({ priority: 'background', heapMb: 256 });
    try {
      const pid = broker.process.pid();
      expect(pid).not.toBeNull();
      expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('java');
      const policies = threadPolicies(pid!);
      expect(policies.length).toBeGreaterThan(10);
      expect(new Set(policies)).toEqual(new Set([SCHED_IDLE]));
      expect(await kafkaReady(broker.brokers)).toBe(true);
    } finally {
      await broker.stop();
      rmSync(broker.info.dir, { recursive: true, force: true });
    }
  }, 90_000);
});
