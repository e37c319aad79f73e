import type { TraceContext } from '../common/contracts/index.ts';
import { randomHex } from './random-pool.ts';

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
  // One draw for both ids: 16 bytes of trace id, 8 of span id.
  const ids = randomHex(24);
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
