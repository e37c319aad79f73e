import { describe, expect, it } from 'vitest';
import { loadCampaign } from '../../../loadtests/campaign-schema.ts';
import type { RunResult } from '../../../loadtests/runner/campaign-run.ts';
import type { FloorSample } from '../../../loadtests/runner/floor-probe.ts';
import type { MetricsSample } from '../../../loadtests/runner/metrics-sampler.ts';
import { Recorder } from '../../../loadtests/runner/recorder.ts';
import { busyShare, checkExpectations, runFigures } from '../../../loadtests/runner/verdict.ts';

const sample = (t: number, slotBusySeconds: number | null): MetricsSample => ({
  t,
  slotsBusy: null,
  slotBusySeconds,
  loopLagP99Ms: null,
  loopLagMaxMs: null,
  cpuSeconds: null,
});

describe('GPU use from cumulative busy slot-seconds', () => {
  const always = () => true;

  it('is busy time over slot time, whatever happened between scrapes', () => {
    // 2 slots for 2 s: 3 slot-seconds busy = 75 %.
    const m = [sample(0, 10), sample(1000, 11.5), sample(2000, 13)];
    expect(busyShare(m, 2, always)).toBeCloseTo(0.75);
  });

  it('counts only intervals ending in the window, and skips a restarted worker', () => {
    const m = [sample(0, 0), sample(1000, 1), sample(2000, 0.2), sample(3000, 0.7), sample(4000, 1.7)];
    // The sum fell over 1000→2000 (a restart): skipped; 2000→3000 and 3000→4000 count; 0→1000
    // ends outside the window.
    expect(busyShare(m, 1, (t) => t >= 1500)).toBeCloseTo((0.5 + 1) / 2);
    expect(busyShare([sample(0, null), sample(1000, null)], 1, always)).toBeNull();
  });
});

/** The parts of a run the refusal figures read, from a real Recorder. */
function recordedRun(rec: Recorder, floor: FloorSample[]): RunResult {
  const partial: Partial<RunResult> = {
    buckets: rec.buckets,
    refusalOverall: rec.refusalOverall(),
    endings: {},
    metrics: [],
    status: [],
    floor,
    generatorCpuMs: 0,
    durationMs: rec.buckets.length * 1000,
  };
  return partial as RunResult;
}

describe('refusal latency against the health-check floor of the same seconds', () => {
  /** Seconds 0–3; refusals (in seconds 1 and 2 only) answered in `refusalMs`. */
  const run = async (refusalMs: number, floor: FloorSample[], bound: number | null = 3) => {
    const rec = new Recorder();
    for (let s = 0; s < 4; s++) {
      for (let i = 0; i < 50; i++) {
        rec.count(s * 1000 + i, 'chat/free', 'offered');
        if (s === 1 || s === 2) rec.refused(s * 1000 + i, 'chat/free', refusalMs, 'capacity_exceeded');
        else rec.count(s * 1000 + i, 'chat/free', 'admitted');
      }
    }
    const shipped = await loadCampaign('launch-day');
    expect(shipped.expect.refusalOverHealthCheck).toBe(3);
    const campaign = {
      ...shipped,
      expect: { ...shipped.expect, refusalOverHealthCheck: bound ?? undefined },
    };
    const figures = runFigures(recordedRun(rec, floor), campaign, null);
    return {
      figures,
      check: checkExpectations(figures, campaign).find((c) => c.name.includes('health check')),
    };
  };
  // 100 health checks of 2 ms in the refusing seconds; slow ones in the quiet seconds 0 and 3.
  const floor: FloorSample[] = [
    ...Array.from({ length: 100 }, (_, i) => ({ t: 1000 + i * 20, ms: 2 })),
    { t: 100, ms: 80 },
    { t: 3500, ms: 80 },
  ];

  it('takes the floor from the seconds that had refusals only', async () => {
    const { figures } = await run(5, floor);
    expect(figures.floorP99Ms).toBe(2);
  });

  it("passes a refusal tail within the campaign's bound over the floor (3× in launch-day) and fails one beyond", async () => {
    expect((await run(5, floor)).check?.pass).toBe(true);
    const slow = await run(7, floor);
    expect(slow.check?.pass).toBe(false);
    expect(slow.check?.expected).toBe('≤ 3× the health-check p99 in the same seconds');
    expect(slow.check?.actual).toMatch(/^3\.5\d× \(7\.\d+ ms vs 2\.00 ms\)$/);
    // Another bound from the campaign file moves the verdict.
    expect((await run(7, floor, 4)).check?.pass).toBe(true);
  });

  it('is not checked when the campaign does not ask for it', async () => {
    const { check } = await run(7, floor, null);
    expect(check).toBeUndefined();
  });

  it('is not checked without health checks to compare with', async () => {
    const { figures, check } = await run(5, []);
    expect(figures.floorP99Ms).toBeNull();
    expect(check).toBeUndefined();
  });
});

describe('the floor weights each second by its refusals', () => {
  it('a second with many refusals counts for more than a second with few', async () => {
    const rec = new Recorder();
    // Second 1: 5 refusals; second 2: 995.
    for (let i = 0; i < 5; i++) rec.refused(1000 + i, 'chat/free', 1, 'capacity_exceeded');
    for (let i = 0; i < 995; i++) rec.refused(2000 + (i % 1000), 'chat/free', 1, 'capacity_exceeded');
    const floor: FloorSample[] = [
      // Second 1: slow health checks; second 2: fast ones, as many.
      ...Array.from({ length: 20 }, (_, i) => ({ t: 1000 + i * 50, ms: 9 })),
      ...Array.from({ length: 20 }, (_, i) => ({ t: 2000 + i * 50, ms: 3 })),
    ];
    // Unweighted, the slow half of the samples would make the p99 9 ms; weighted, 0.5 % of the
    // refusals saw the slow second, so the p99 sits in the fast one.
    expect(runFigures(recordedRun(rec, floor), await loadCampaign('launch-day'), null).floorP99Ms).toBe(3);
  });
});
