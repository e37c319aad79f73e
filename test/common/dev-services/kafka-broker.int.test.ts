import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kafkaReady, startKafkaBroker } from '../../../common/dev-services/kafka-broker.ts';

/** The nice value of every thread of a process (field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: count fields after its close.
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

describe('a Kafka broker started with a nice value', () => {
  it('runs every JVM thread at it, and serves', async () => {
    const broker = await startKafkaBroker({ nice: 10, heapMb: 256 });
    try {
      const pid = broker.process.pid();
      expect(pid).not.toBeNull();
      expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('java');
      const nices = threadNices(pid!);
      expect(nices.length).toBeGreaterThan(10);
      expect(new Set(nices)).toEqual(new Set([10]));
      expect(await kafkaReady(broker.brokers)).toBe(true);
    } finally {
      await broker.stop();
      rmSync(broker.info.dir, { recursive: true, force: true });
    }
  }, 90_000);
});
