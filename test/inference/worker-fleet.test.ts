import { describe, expect, it } from 'vitest';
import type { Infra } from '../../common/infra.ts';
import { createMemoryInfra } from '../../common/memory-infra.ts';
import type { ModelRunner } from '../../inference/model-runner.ts';
import { WorkerFleet } from '../../inference/worker-fleet.ts';

/** Records what the fleet did to each worker and model pool; workers keep the Infra they were given. */
function fakeFleet() {
  const events: string[] = [];
  const workers = new Map<string, { infra: Infra; models: ModelRunner }>();
  let pools = 0;
  const runner = (name: string) => ({ name, close: async () => void events.push(`close models ${name}`) });
  const shared = runner('shared') as unknown as ModelRunner;
  const fleet = new WorkerFleet({
    baseId: 'w',
    infra: createMemoryInfra(),
    models: shared,
    startWorker: async (id, infra, models) => {
      workers.set(id, { infra, models });
      return {
        close: async () => void events.push(`close ${id}`),
        crash: async () => void events.push(`crash ${id}`),
      };
    },
    startModels: async () => runner(`own-${++pools}`) as unknown as ModelRunner,
  });
  return { fleet, events, workers, shared };
}

describe('WorkerFleet', () => {
  it('kills the newest fraction (one at least) by crash, never a graceful close', async () => {
    const { fleet, events } = fakeFleet();
    expect(await fleet.start(4)).toEqual(['w-1', 'w-2', 'w-3', 'w-4']);
    expect(await fleet.kill(0.5)).toEqual({ count: 2, of: 4, withOwnModels: 0 });
    expect(fleet.ids()).toEqual(['w-1', 'w-2']);
    expect(events.sort()).toEqual(['crash w-3', 'crash w-4']);
    expect(await fleet.kill(0)).toMatchObject({ count: 1, of: 2 });
    expect(await fleet.kill(1)).toMatchObject({ count: 1, of: 1 });
    await expect(fleet.kill(0.5)).rejects.toMatchObject({ code: 'fault_failed' });
  });

  it("cuts a killed worker's stores and queue off, and only its own", async () => {
    const { fleet, workers } = fakeFleet();
    await fleet.start(2);
    await fleet.kill(0.5);
    const dead = workers.get('w-2')!.infra;
    const alive = workers.get('w-1')!.infra;
    for (const call of [
      dead.jobs.get('job_x'),
      dead.events.append('job_x', { type: 'state', state: 'queued', pass: 0, passes: 1, at: 1 }),
      dead.coord.readSignals(),
      dead.queue.publish('t', { key: 'k', value: Buffer.from('m'), headers: {} }),
      dead.blobs.get('b'),
    ])
      await expect(call).rejects.toMatchObject({ code: 'worker_killed' });
    expect(await alive.jobs.get('job_x')).toBeNull();
  });

  it('restores killed workers as new ones with new ids, with model threads of their own if they had them', async () => {
    const { fleet, events, workers, shared } = fakeFleet();
    await fleet.start(2);
    const [added] = await fleet.add(1);
    expect(added).toBe('w-3');
    expect(workers.get('w-3')!.models).not.toBe(shared);
    const killed = await fleet.kill(0.5);
    expect(killed).toEqual({ count: 2, of: 3, withOwnModels: 1 });
    // The added worker's model thread dies with it.
    expect(events).toContain('close models own-1');
    const fresh = await fleet.restore(killed);
    expect(fresh).toEqual(['w-4', 'w-5']);
    expect(workers.get('w-4')!.models).not.toBe(shared);
    expect(workers.get('w-5')!.models).toBe(shared);
    expect(fleet.ids()).toEqual(['w-1', 'w-4', 'w-5']);
  });

  it('removes added workers gracefully with their models, and closes the rest on close', async () => {
    const { fleet, events } = fakeFleet();
    await fleet.start(1);
    const added = await fleet.add(2);
    await fleet.remove(added);
    expect(events.sort()).toEqual(['close models own-1', 'close models own-2', 'close w-2', 'close w-3']);
    expect(fleet.ids()).toEqual(['w-1']);
    await fleet.close();
    expect(events).toContain('close w-1');
    // The shared models belong to the service, which closes them after the fleet.
    expect(events).not.toContain('close models shared');
    expect(fleet.ids()).toEqual([]);
  });
});
