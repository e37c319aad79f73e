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
    const publish = () => {
      const last = loop.last(1)[0];
      controllerMetrics.state(last.state, last.view);
    };
    const source = async () =>
      Object.fromEntries(
        await Promise.all(
          ['learned', 'held', 'unknown'].map(async (s) => [
            s,
            await value('spillway_controller_capacity_source', `{source="${s}"}`),
          ]),
        ),
      );
    // Reporting from the first interval, though nothing is learned yet: not a fleet that is gone.
    loop.run(1);
    publish();
    expect(await value('spillway_controller_workers_reporting')).toBe(2);
    expect(await source()).toEqual({ learned: 0, held: 0, unknown: 1 });
    loop.run(60);
    publish();
    expect(await value('spillway_controller_workers_reporting')).toBe(2);
    expect(await source()).toEqual({ learned: 1, held: 0, unknown: 0 });
    plant.killWorker('w0');
    plant.killWorker('w1');
    loop.run(10);
    publish();
    expect(await value('spillway_controller_workers_reporting')).toBe(0);
    expect(await source()).toEqual({ learned: 0, held: 1, unknown: 0 });
    loop.run(20);
    publish();
    expect(await source()).toEqual({ learned: 0, held: 0, unknown: 1 });
  });
});
