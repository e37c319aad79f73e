/**
 * How long a finished job stays readable (its record, its idempotency answer, its events) unless a
 * store is told otherwise. The Redis and memory stores share it so both modes forget alike, and
 * the blob sweeper keeps images at least this long so a readable job never points at a lost image.
 */
export const DEFAULT_TERMINAL_RETENTION_MS = 7 * 86_400_000;
