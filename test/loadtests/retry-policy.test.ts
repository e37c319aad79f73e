import { describe, expect, it } from 'vitest';
import { ClientBehaviour } from '../../loadtests/campaign-schema.ts';
import { backoffMs, decideRetry, hintedDelayMs } from '../../loadtests/runner/retry-policy.ts';

const sdk = ClientBehaviour.parse({});
const now = Date.parse('2026-01-01T00:00:00Z');

describe('SDK-like retries', () => {
  it('retries 408, 409, 429, 5xx and network errors, not other 4xx', () => {
    for (const s of [408, 409, 429, 500, 503, null])
      expect(decideRetry(s, {}, 0, sdk, () => 0, now).retry).toBe(true);
    for (const s of [400, 401, 403, 404, 422])
      expect(decideRetry(s, {}, 0, sdk, () => 0, now).retry).toBe(false);
  });

  it('stops after maxRetries and when told x-should-retry: false', () => {
    expect(decideRetry(429, {}, 2, sdk, () => 0, now).retry).toBe(false);
    expect(decideRetry(429, { 'x-should-retry': 'false' }, 0, sdk, () => 0, now).retry).toBe(false);
    expect(decideRetry(400, { 'x-should-retry': 'true' }, 0, sdk, () => 0, now).retry).toBe(true);
  });

  it('takes retry-after-ms, then retry-after (seconds or date), within (0, 60 s]', () => {
    expect(hintedDelayMs({ 'retry-after-ms': '1500', 'retry-after': '9' }, now, 60_000)).toBe(1500);
    expect(hintedDelayMs({ 'retry-after': '3' }, now, 60_000)).toBe(3000);
    expect(hintedDelayMs({ 'retry-after': new Date(now + 5000).toUTCString() }, now, 60_000)).toBe(5000);
    expect(hintedDelayMs({ 'retry-after': '61' }, now, 60_000)).toBeNull();
    expect(hintedDelayMs({ 'retry-after-ms': '0' }, now, 60_000)).toBeNull();
  });

  it('backs off 0.5 s doubling to 8 s, jittered down by at most 25 %', () => {
    expect(backoffMs(0, sdk, () => 0)).toBe(500);
    expect(backoffMs(1, sdk, () => 0)).toBe(1000);
    expect(backoffMs(10, sdk, () => 0)).toBe(8000);
    expect(backoffMs(0, sdk, () => 0.999)).toBeGreaterThan(375);
    expect(decideRetry(429, { 'retry-after': '120' }, 0, sdk, () => 0, now).delayMs).toBe(500);
  });
});
