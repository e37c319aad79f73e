import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Lines about a job carry jobId, account (a hash, never a key), lane, tier
 * and traceId, so a job can be followed across services by its trace id.
 */
export function createLogger(service: string, level = process.env.SPILLWAY_LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: ['key', 'apiKey', 'authorization', '*.authorization', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}

/**
 * Allows at most `perSecond` calls of `log` per second and counts the rest, so a flood of
 * refusals cannot flood the logs; the count of dropped lines is reported with the next line.
 */
export function rateLimitedLog(perSecond: number): (log: (dropped: number) => void) => void {
  let windowStart = 0;
  let used = 0;
  let dropped = 0;
  return (log) => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      used = 0;
    }
    if (used >= perSecond) {
      dropped++;
      return;
    }
    used++;
    log(dropped);
    dropped = 0;
  };
}
