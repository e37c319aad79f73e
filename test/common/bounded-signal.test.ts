import { describe, expect, it } from 'vitest';
import { boundedSignal } from '../../common/bounded-signal.ts';

describe('boundedSignal', () => {
  it('fires on its own time and says so', async () => {
    const b = boundedSignal(5);
    await new Promise((r) => setTimeout(r, 30));
    expect(b.signal.aborted).toBe(true);
    expect(b.timedOut()).toBe(true);
    expect((b.signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it('fires with a parent and carries its reason, not as a timeout', () => {
    const parent = new AbortController();
    const b = boundedSignal(60_000, [parent.signal, undefined]);
    parent.abort('gone');
    expect(b.signal.aborted).toBe(true);
    expect(b.signal.reason).toBe('gone');
    expect(b.timedOut()).toBe(false);
  });

  it('starts aborted when a parent already is', () => {
    const parent = new AbortController();
    parent.abort('early');
    const b = boundedSignal(60_000, [parent.signal]);
    expect(b.signal.reason).toBe('early');
  });

  it('once disposed, neither its timer nor its parents reach it (and it holds nothing)', async () => {
    const parent = new AbortController();
    const b = boundedSignal(5, [parent.signal]);
    b.dispose();
    await new Promise((r) => setTimeout(r, 30));
    parent.abort('later');
    expect(b.signal.aborted).toBe(false);
    expect(b.timedOut()).toBe(false);
  });
});
