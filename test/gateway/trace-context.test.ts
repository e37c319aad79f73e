import { describe, expect, it } from 'vitest';
import { traceFromHeaders } from '../../gateway/trace-context.ts';

describe('trace context', () => {
  it('starts a new sampled trace without a valid traceparent', () => {
    for (const header of [
      null,
      'garbage',
      `ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
      `00-${'0'.repeat(32)}-${'b'.repeat(16)}-01`,
    ]) {
      const t = traceFromHeaders(header, 'k=v');
      expect(t.traceparent).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-01$/);
      expect(t.traceparent.slice(3, 35)).toBe(t.traceId);
      expect(t.tracestate).toBeUndefined();
    }
    expect(traceFromHeaders(null, null).traceId).not.toBe(traceFromHeaders(null, null).traceId);
  });

  it("continues the caller's trace with a new span and keeps its tracestate", () => {
    const parent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-00`;
    const t = traceFromHeaders(parent, 'k=v');
    expect(t.traceId).toBe('a'.repeat(32));
    expect(t.traceparent).toMatch(new RegExp(`^00-${'a'.repeat(32)}-[\\da-f]{16}-00$`));
    expect(t.traceparent).not.toContain('b'.repeat(16));
    expect(t.tracestate).toBe('k=v');
  });
});
