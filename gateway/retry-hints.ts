/**
 * Retry hints for refusals. The hint is jittered so refused clients spread out instead of coming
 * back in one wave, and kept within (0, 60] s because recent OpenAI SDKs ignore longer hints.
 */
export const MAX_HINT_MS = 60_000;
const MIN_HINT_MS = 100;

/** Go-style duration (`1s`, `6m0s`, `250ms`), as OpenAI's x-ratelimit-reset-* headers use. */
export function goDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  if (total < 1000) return `${total}ms`;
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const sec = goSeconds(total % 60_000);
  if (h > 0) return `${h}h${m}m${sec}`;
  if (m > 0) return `${m}m${sec}`;
  return sec;
}

/**
 * Whole milliseconds below a minute as Go prints seconds: `7s`, `7.5s`, `7.05s`, `7.125s`. Digit
 * arithmetic rather than toFixed and a regular expression: every refusal's headers carry one.
 */
function goSeconds(ms: number): string {
  const whole = Math.floor(ms / 1000);
  let frac = ms % 1000;
  if (frac === 0) return `${whole}s`;
  let digits = 3;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  return `${whole}.${String(frac).padStart(digits, '0')}s`;
}

/** A wait in (0, 60 s]: the base stretched by up to +50 % at random (`random` in [0, 1)). */
export function jitteredHintMs(baseMs: number, random: number): number {
  const base = Math.min(MAX_HINT_MS, Math.max(MIN_HINT_MS, Number.isFinite(baseMs) ? baseMs : MAX_HINT_MS));
  return Math.min(MAX_HINT_MS, Math.round(base * (1 + 0.5 * random)));
}

export interface RateLimitView {
  limit: number;
  remaining: number;
  resetMs: number;
}

/** Headers of a refusal the client may retry: retry-after (s, rounded up), retry-after-ms, x-ratelimit-*. */
export function retryHeaders(hintMs: number, view: RateLimitView | null): Record<string, string> {
  const headers: Record<string, string> = {
    'retry-after': String(Math.max(1, Math.ceil(hintMs / 1000))),
    'retry-after-ms': String(hintMs),
  };
  if (view) Object.assign(headers, rateLimitHeaders(view));
  return headers;
}

export function rateLimitHeaders(view: RateLimitView): Record<string, string> {
  return {
    'x-ratelimit-limit-requests': String(view.limit),
    'x-ratelimit-remaining-requests': String(Math.max(0, view.remaining)),
    'x-ratelimit-reset-requests': goDuration(view.resetMs),
  };
}

/** For refusals where retrying cannot help (disabled feature, bad request shape). */
export const NO_RETRY = { 'x-should-retry': 'false' } as const;
