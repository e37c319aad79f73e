import type { Context, MiddlewareHandler } from 'hono';
import type { TraceContext } from '../common/contracts/index.ts';
import { traceFromHeaders } from './trace-context.ts';

type Trace = TraceContext & { traceId: string };

// A request's trace and a response's "traceparent is in" mark are properties under these symbols,
// not entries of a WeakMap and a WeakSet: every request made both, and weak collections cost
// the garbage collector extra work per entry (ephemerons), on the shed path too.
const TRACE = Symbol('spillway.trace');
const STAMPED = Symbol('spillway.traceparent-set');
type TracedRequest = Request & { [TRACE]?: Trace };
type StampedResponse = Response & { [STAMPED]?: true };

/**
 * The gateway's one middleware: gives every request a W3C trace context (continued or new),
 * returns it as `traceparent`, then hands the answered request to `observe` (metrics) with the
 * time it started. Tracing and metrics share this one async layer because each layer costs a
 * promise and a compose step on every request, the 429s included.
 */
export function traceRequests(observe: (c: Context, startedAt: number) => void): MiddlewareHandler {
  return async (c, next) => {
    const startedAt = performance.now();
    const trace = traceFromHeaders(c.req.header('traceparent') ?? null, c.req.header('tracestate') ?? null);
    (c.req.raw as TracedRequest)[TRACE] = trace;
    await next();
    if (!(c.res as StampedResponse)[STAMPED]) c.res.headers.set('traceparent', trace.traceparent);
    observe(c, startedAt);
  };
}

export function requestTrace(c: Context): Trace {
  const req = c.req.raw as TracedRequest;
  req[TRACE] ??= traceFromHeaders(null, null);
  return req[TRACE];
}

/**
 * A JSON response with the request's `traceparent` among its headers from the start. Setting the
 * header afterwards (as the middleware does for other responses) turns the response's plain header
 * record into a Headers object, a cost that shows on the admitted and shed paths.
 */
export function tracedJson(
  c: Context,
  body: string | Uint8Array<ArrayBuffer>,
  status: number,
  headers: Record<string, string>,
): Response {
  const res = new Response(body, {
    status,
    headers: { 'content-type': 'application/json', ...headers, traceparent: requestTrace(c).traceparent },
  });
  (res as StampedResponse)[STAMPED] = true;
  return res;
}
