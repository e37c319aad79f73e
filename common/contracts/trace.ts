import { z } from 'zod';

/** W3C trace context, carried from the gateway through Kafka headers to the worker. */
export const TraceContext = z.object({
  traceparent: z.string().regex(/^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/),
  tracestate: z.string().optional(),
});
export type TraceContext = z.infer<typeof TraceContext>;
