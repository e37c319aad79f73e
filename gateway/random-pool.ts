import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 8192;
const pool = Buffer.alloc(POOL_BYTES);
let at = POOL_BYTES;
/** The pool as hex, made at the first randomHex after a refill. */
let poolHex: string | null = null;

/**
 * `n` bytes from the CSPRNG, drawn from a pool refilled 8 KiB at a time: ids minted per request
 * (job ids, trace and span ids) cost one call into the CSPRNG per hundreds of requests instead of
 * one each. Every byte is handed out once. The view is only valid until the next call: read it
 * at once, never keep it.
 */
export function randomBytesView(n: number): Buffer {
  if (n > POOL_BYTES) return randomFillSync(Buffer.alloc(n));
  const start = take(n);
  return pool.subarray(start, start + n);
}

/**
 * `n` random bytes as 2n hex characters: a slice of the pool hex-encoded once per refill (V8
 * shares the characters of a slice this long, so a trace and span id cost no encoding each).
 */
export function randomHex(n: number): string {
  if (n > POOL_BYTES) return randomFillSync(Buffer.alloc(n)).toString('hex');
  const start = take(n);
  poolHex ??= pool.toString('hex');
  return poolHex.slice(2 * start, 2 * (start + n));
}

/** Reserves the next `n` (≤ POOL_BYTES) unused bytes of the pool, refilling it when it runs out. */
function take(n: number): number {
  if (at + n > POOL_BYTES) {
    randomFillSync(pool);
    poolHex = null;
    at = 0;
  }
  const start = at;
  at += n;
  return start;
}
