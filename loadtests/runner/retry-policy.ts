import type { ClientBehaviour } from '../campaign-schema.ts';

/**
 * What a client built on the `openai` SDK does after a failed attempt: retry 408, 409, 429 and
 * 5xx (and network errors) up to maxRetries, obey `x-should-retry`, take `retry-after-ms` then
 * `retry-after` when within (0, maxRetryAfter], else back off 0.5 s doubling to 8 s with up to
 * 25 % jitter downwards.
 */
export interface RetryDecision {
  retry: boolean;
  delayMs: number;
}

export type HeaderBag = Record<string, string | string[] | undefined>;

function header(h: HeaderBag, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

export function isRetryableStatus(status: number | null): boolean {
  if (status === null) return true; // connection error or timeout
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

export function hintedDelayMs(h: HeaderBag, now: number, maxMs: number): number | null {
  const ms = header(h, 'retry-after-ms');
  if (ms !== undefined) {
    const v = Number.parseFloat(ms);
    if (Number.isFinite(v) && v > 0 && v <= maxMs) return v;
  }
  const after = header(h, 'retry-after');
  if (after !== undefined) {
    const secs = Number.parseFloat(after);
    const v = Number.isFinite(secs) && /^\s*[\d.]+\s*$/.test(after) ? secs * 1000 : Date.parse(after) - now;
    if (Number.isFinite(v) && v > 0 && v <= maxMs) return v;
  }
  return null;
}

export function backoffMs(retriesSoFar: number, b: ClientBehaviour, random: () => number): number {
  const base = Math.min(b.initialRetryDelay * 2 ** retriesSoFar, b.maxRetryDelay);
  return base * (1 - random() * 0.25);
}

export function decideRetry(
  status: number | null,
  headers: HeaderBag,
  retriesSoFar: number,
  b: ClientBehaviour,
  random: () => number,
  now: number,
): RetryDecision {
  if (retriesSoFar >= b.maxRetries) return { retry: false, delayMs: 0 };
  const should = header(headers, 'x-should-retry');
  if (should === 'false') return { retry: false, delayMs: 0 };
  if (should !== 'true' && !isRetryableStatus(status)) return { retry: false, delayMs: 0 };
  const hinted = hintedDelayMs(headers, now, b.maxRetryAfter);
  return { retry: true, delayMs: hinted ?? backoffMs(retriesSoFar, b, random) };
}
