import { describe, expect, it } from 'vitest';
import { registry } from '../../common/metrics.ts';
import { controllerMetrics } from '../../controller/metrics.ts';
import { Loop, plantWith, setDemand, testPolicy } from './scenario.ts';

async function value(name: string, labels = ''): Promise<number> {
  const text = await registry.getSingleMetricAsString(name);
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  if (!line) throw new Error(`${name}${labels} not exported:\n${text}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('controller metrics', () => {
  it('say how many workers report and where capacity comes from: learned, held, then unknown', async () => {
    const active = testPolicy('aimd', { control: { law: 'aimd', capacity: { holdAfterLoss: '20s' } } });
    const plant = plantWith(2, 5, active);
    setDemand(plant, { pro: 2, plus: 2, free: 50 });
    const loop = new Loop(plant, active);
    /** Runs `intervals`, publishes the last state as the controller does, and reads the metrics back. */
    const runFor = async (intervals: number) => {
      loop.run(intervals);
      const last = loop.last(1)[0];
      controllerMetrics.state(last.state, last.view);
      const sources = ['learned', 'held', 'unknown'];
      const flags = await Promise.all(
        sources.map((s) => value('spillway_controller_capacity_source', `{source="${s}"}`)),
      );
      return {
        reporting: await value('spillway_controller_workers_reporting'),
        source: sources.filter((_, k) => flags[k] === 1),
      };
    };
    // Reporting from the first interval, though nothing is learned yet: not a fleet that is gone.
    expect(await runFor(1)).toEqual({ reporting: 2, source: ['unknown'] });
    expect(await runFor(60)).toEqual({ reporting: 2, source: ['learned'] });
    plant.killWorker('w0');
    plant.killWorker('w1');
    expect(await runFor(10)).toEqual({ reporting: 0, source: ['held'] });
    expect(await runFor(20)).toEqual({ reporting: 0, source: ['unknown'] });
  });
});
