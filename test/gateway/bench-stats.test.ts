import { describe, expect, it } from 'vitest';
import {
  formatSpread,
  type Round,
  roundOrder,
  spread,
  summarise,
  type TargetSample,
} from '../../gateway/bench-stats.ts';

function sample(requests: number, seconds: number, serverCpuUs: number, p99Ms: number): TargetSample {
  return {
    requests,
    seconds,
    serverCpuUs,
    generatorCpuUs: seconds * 5e5,
    wrongStatus: 0,
    p50Ms: p99Ms / 2,
    p99Ms,
  };
}

describe('bench statistics', () => {
  it('takes the median of odd and even counts and the range', () => {
    expect(spread([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3 });
    expect(spread([4, 1, 3, 2])).toEqual({ median: 2.5, min: 1, max: 4 });
    expect(spread([])).toEqual({ median: 0, min: 0, max: 0 });
    expect(formatSpread(spread([0.5, 0.25, 1]))).toBe('0.50 [0.25–1.00]');
    expect(formatSpread(spread([120.4, 98.6]), 0)).toBe('110 [99–120]');
  });

  it('divides by the bare target of the same round, not by an average over rounds', () => {
    // Round 2 ran on a machine twice as busy: both targets halve, the ratio does not move.
    const rounds: Round[] = [
      {
        bare: sample(1000, 1, 100_000, 2),
        'bare-429': sample(1600, 1, 100_000, 2),
        'io-floor': sample(800, 1, 100_000, 3),
        admitted: sample(400, 1, 100_000, 5),
        shed: sample(800, 1, 100_000, 3),
      },
      {
        bare: sample(500, 1, 50_000, 4),
        'bare-429': sample(500, 1, 50_000, 4),
        'io-floor': sample(250, 1, 50_000, 5),
        admitted: sample(200, 1, 50_000, 7),
        shed: sample(400, 1, 50_000, 5),
      },
      {
        bare: sample(1000, 2, 100_000, 2),
        'bare-429': sample(1750, 2, 100_000, 2),
        'io-floor': sample(1500, 2, 100_000, 3),
        admitted: sample(600, 2, 300_000, 4),
        shed: sample(1400, 2, 200_000, 3),
      },
    ];
    const admitted = summarise(rounds, 'admitted');
    expect(admitted.ratio).toEqual({ median: 0.4, min: 0.4, max: 0.6 });
    expect(admitted.addedP99Ms).toEqual({ median: 3, min: 2, max: 3 });
    // cpu per request: bare 100 µs; admitted 250, 250, 500 µs → ×bare by cpu 0.4, 0.4, 0.2.
    expect(admitted.cpuUsPerRequest).toEqual({ median: 250, min: 250, max: 500 });
    expect(admitted.cpuRatio).toEqual({ median: 0.4, min: 0.2, max: 0.4 });
    expect(admitted.generatorBusy.median).toBeCloseTo(0.5);
    expect(admitted.requests).toBe(1200);
    // Against the I/O floor of each round (800, 250, 750 rps): 0.5, 0.8, 0.4.
    expect(admitted.ratioToFloor).toEqual({ median: 0.5, min: 0.4, max: 0.8 });
    const shed = summarise(rounds, 'shed');
    expect(shed.ratio).toEqual({ median: 0.8, min: 0.8, max: 1.4 });
    // Against the bare 429 of each round (1600, 500, 875 rps): 0.5, 0.8, 0.8.
    expect(shed.ratioToBare429).toEqual({ median: 0.8, min: 0.5, max: 0.8 });
    expect(summarise(rounds, 'bare').ratio).toEqual({ median: 1, min: 1, max: 1 });
  });

  it('rotates the order of targets from round to round', () => {
    const targets = ['bare', 'admitted', 'shed'] as const;
    expect(roundOrder(0, targets)).toEqual(['bare', 'admitted', 'shed']);
    expect(roundOrder(1, targets)).toEqual(['admitted', 'shed', 'bare']);
    expect(roundOrder(2, targets)).toEqual(['shed', 'bare', 'admitted']);
    expect(roundOrder(3, targets)).toEqual(roundOrder(0, targets));
  });
});
