import { z } from 'zod';

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
const RATE_UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  m: 1 / 60,
  min: 1 / 60,
  h: 1 / 3600,
  hour: 1 / 3600,
};

// Anchored patterns shared by the parsers and the JSON Schema, so editors flag exactly what the loader refuses.
export const DURATION_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)\s*$/;
export const RATE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(s|sec|m|min|h|hour)\s*$/;

/** `90s`, `10m`, `250ms`, `1h` → milliseconds; null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const m = DURATION_PATTERN.exec(text);
  if (!m) return null;
  return Math.round(Number(m[1]) * DURATION_UNITS[m[2]]);
}

/** `50/s`, `600/min`, `1000/h` → per second; null when it is not a rate. */
export function parseRate(text: string): number | null {
  const m = RATE_PATTERN.exec(text);
  if (!m) return null;
  return Number(m[1]) * RATE_UNITS[m[2]];
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const RATE_DIVISORS = { s: 1, min: 1 / 60, h: 1 / 3600 } as const;

/**
 * Per second → `50/s`, `600/min`, `5/h`: the preferred unit when it gives a whole number, else the
 * first of s, min, h that does, else per second with decimals.
 */
export function formatRate(perSecond: number, prefer: keyof typeof RATE_DIVISORS = 's'): string {
  const whole = (unit: keyof typeof RATE_DIVISORS) => {
    const n = perSecond / RATE_DIVISORS[unit];
    return Math.abs(n - Math.round(n)) < 1e-6 ? Math.round(n) : null;
  };
  if (perSecond === 0) return `0/${prefer}`;
  for (const unit of [prefer, 's', 'min', 'h'] as const) {
    const n = whole(unit);
    if (n !== null && n >= 1) return `${n}/${unit}`;
  }
  return `${Number(perSecond.toFixed(4))}/s`;
}

/** A duration in human units in the file, milliseconds after parsing. */
export const Duration = z
  .string()
  .regex(DURATION_PATTERN, 'must be a duration such as 250ms, 90s, 10m, 1h')
  .describe('A duration such as 250ms, 90s, 10m, 1h')
  .transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration (use 250ms, 90s, 10m, 1h)` });
      return z.NEVER;
    }
    return ms;
  });

/** A rate in human units in the file, per second after parsing. */
export const Rate = z
  .string()
  .regex(RATE_PATTERN, 'must be a rate such as 50/s, 600/min, 1000/h')
  .describe('A rate such as 50/s, 600/min, 1000/h')
  .transform((text, ctx) => {
    const r = parseRate(text);
    if (r === null) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a rate (use 50/s, 600/min, 1000/h)` });
      return z.NEVER;
    }
    return r;
  });
