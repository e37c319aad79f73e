import { describe, expect, it } from 'vitest';
import { workersFor } from '../../../common/fault-size.ts';
import { loadCampaign, parseCampaign } from '../../../loadtests/campaign-schema.ts';
import { stackSize } from '../../../loadtests/runner/loadtest.ts';

const SHIPPED = ['launch-day', 'steady', 'soak', 'retry-storm', 'capacity-drop', 'fleet-restart'];

const campaign = (stack?: { workers: number }) =>
  parseCampaign({
    name: 'c',
    mix: [{ lane: 'chat', tier: 'pro', weight: 1 }],
    stages: [{ name: 's', duration: '1s', rate: 1 }],
    ...(stack ? { stack } : {}),
  });

describe('stackSize', () => {
  it('starts one worker slot by default, in either mode', () => {
    expect(stackSize({}, campaign())).toEqual({ slots: 1, processes: 1, totalSlots: 1 });
    expect(stackSize({ mode: 'distributed' }, campaign())).toEqual({ slots: 1, processes: 1, totalSlots: 1 });
  });

  it("takes the campaign's workers: embedded slots (one worker each), distributed processes", () => {
    const c = campaign({ workers: 3 });
    expect(stackSize({}, c)).toEqual({ slots: 3, processes: 1, totalSlots: 3 });
    expect(stackSize({ mode: 'distributed' }, c)).toEqual({ slots: 1, processes: 3, totalSlots: 3 });
  });

  it('lets the command line win over the campaign', () => {
    const c = campaign({ workers: 3 });
    expect(stackSize({ workerSlots: 2 }, c).slots).toBe(2);
    expect(stackSize({ mode: 'distributed', workerProcesses: 4, workerSlots: 2 }, c)).toEqual({
      slots: 2,
      processes: 4,
      totalSlots: 8,
    });
  });

  it('gives every shipped campaign that kills a fraction of the workers enough of them to keep some', async () => {
    for (const name of SHIPPED) {
      const c = await loadCampaign(name);
      for (const f of c.faults) {
        if (f.kind !== 'kill-workers' || (f.fraction ?? 1) >= 1) continue;
        for (const mode of ['embedded', 'distributed'] as const) {
          const size = stackSize({ mode }, c);
          const workers = mode === 'embedded' ? size.slots : size.processes;
          expect(workersFor(f.fraction!, workers), `${name} (${mode}) kills all ${workers}`).toBeLessThan(
            workers,
          );
        }
      }
    }
  });
});
