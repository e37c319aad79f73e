import { Hono } from 'hono';
import type { Account } from '../common/contracts/index.ts';
import type { Infra } from '../common/infra.ts';
import type { Policy } from '../common/policy/schema.ts';
import { AccountLimits } from './account-limits.ts';
import { enqueueJob } from './enqueue.ts';
import { resolveImageRequest } from './image-request.ts';
import { ImageGenerationRequest } from './openai-schemas.ts';

/**
 * The benchmark's I/O floor: a bare Hono handler doing only the store and queue work an admitted
 * request must do, with the gateway's own parts for it: the account's rate-limit count
 * (AccountLimits, so a Redis script in distributed mode) and enqueueJob (the admission script on
 * Redis, then the durable Kafka publish). Nothing else of the gateway runs: no auth, validation,
 * admission decision, tracing or metrics; the body is read but not parsed, and the request it
 * enqueues is resolved once at start.
 *
 * Its throughput bounds what the admitted path can reach on the machine that runs it, so the
 * admitted path's ratio to it is the gateway's own overhead, and its ratio to bare Hono is the
 * most any gateway with this I/O could show.
 */
export function ioFloorApp(infra: Infra, policy: Policy, account: Account, path: string, body: string): Hono {
  const limits = new AccountLimits(infra.redis);
  limits.apply(policy);
  const resolved = resolveImageRequest(ImageGenerationRequest.parse(JSON.parse(body)), 'generate', policy);
  const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
  const app = new Hono();
  app.post(path, async (c) => {
    await c.req.text();
    const limit = await limits.consume(account.tier, account.id);
    if (!limit.ok) return c.json({ refused: 'rate_limit' }, 429);
    const { record } = await enqueueJob(
      infra,
      policy,
      { account, resolved, brownout: null, trace, idempotencyKey: null, images: [], mask: null },
      Date.now(),
    );
    return c.json({ id: record.id }, 202);
  });
  return app;
}
