import type { Context, MiddlewareHandler } from 'hono';
import type { TraceContext } from '../common/contracts/index.ts';
import { traceFromHeaders } from './trace-context.ts';

type Trace = TraceContext & { traceId: string };
const traces = new WeakMap<Request, Trace>();

/** Gives every request a W3C trace context (continued or new) and returns it as `traceparent`. */
export const traceMiddleware: MiddlewareHandler = async (c, next) => {
  const trace = traceFromHeaders(c.req.header('traceparent') ?? null, c.req.header('tracestate') ?? null);
  traces.set(c.req.raw, trace);
  await next();
  c.res.headers.set('traceparent', trace.traceparent);
};

export function requestTrace(c: Context): Trace {
  let t = traces.get(c.req.raw);
  if (!t) {
    t = traceFromHeaders(null, null);
    traces.set(c.req.raw, t);
  }
  return t;
}
