import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 8192;
const pool = Buffer.alloc(POOL_BYTES);
let at = POOL_BYTES;

/**
 * `n` bytes from the CSPRNG, drawn from a pool refilled 8 KiB at a time: ids minted per request
 * (job ids, trace and span ids) cost one call into the CSPRNG per hundreds of requests instead of
 * one each. Every byte is handed out once. The view is only valid until the next call: read it
 * at once, never keep it.
 */
export function randomBytesView(n: number): Buffer {
  if (n > POOL_BYTES) return randomFillSync(Buffer.alloc(n));
  if (at + n > POOL_BYTES) {
    randomFillSync(pool);
    at = 0;
  }
  const view = pool.subarray(at, at + n);
  at += n;
  return view;
}

/** `n` random bytes as 2n hex characters. */
export function randomHex(n: number): string {
  return randomBytesView(n).toString('hex');
}
