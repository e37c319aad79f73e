import { randomFillSync } from 'node:crypto';
import type { TraceContext } from '../common/contracts/index.ts';

const ID_BYTES = 24;
const POOL_BYTES = ID_BYTES * 256;
const pool = Buffer.alloc(POOL_BYTES);
let poolAt = POOL_BYTES;

/**
 * 24 random bytes as hex (a 16-byte trace id and an 8-byte span id). Taken from a pool filled 256
 * ids at a time: one call into the CSPRNG per 256 requests instead of one per request.
 */
export function randomIds(): string {
  if (poolAt + ID_BYTES > POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const hex = pool.toString('hex', poolAt, poolAt + ID_BYTES);
  poolAt += ID_BYTES;
  return hex;
}

const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;

/**
 * The W3C trace context of a request: the caller's trace continues with a new span for the
 * gateway; without a valid `traceparent` a new trace starts.
 */
export function traceFromHeaders(
  traceparent: string | null,
  tracestate: string | null,
): TraceContext & { traceId: string } {
  const m = traceparent ? TRACEPARENT.exec(traceparent.trim()) : null;
  const valid = m && m[1] !== 'ff' && !/^0+$/.test(m[2]) && !/^0+$/.test(m[3]);
  const ids = randomIds();
  const traceId = valid ? m[2] : ids.slice(16);
  const flags = valid ? m[4] : '01';
  const spanId = ids.slice(0, 16);
  const trace: TraceContext & { traceId: string } = {
    traceparent: `00-${traceId}-${spanId}-${flags}`,
    traceId,
  };
  if (valid && tracestate) trace.tracestate = tracestate;
  return trace;
}
