import { describe, expect, it } from 'vitest';
import { noteSeconds, workersFor } from '../../common/fault-size.ts';

describe('fault size', () => {
  it('names at least one worker, rounds to the nearest, and all of them at fraction 1', () => {
    expect(workersFor(0, 4)).toBe(1);
    expect(workersFor(0.1, 4)).toBe(1);
    expect(workersFor(0.5, 2)).toBe(1);
    expect(workersFor(0.5, 3)).toBe(2);
    expect(workersFor(0.75, 4)).toBe(3);
    expect(workersFor(1, 5)).toBe(5);
  });

  it('prints durations in seconds with one decimal', () => {
    expect(noteSeconds(1234)).toBe('1.2 s');
    expect(noteSeconds(50)).toBe('0.1 s');
  });
});
