import type { Context, Hono } from 'hono';
import { isTerminal, JobId, type JobRecord, type ProgressEvent } from '../common/contracts/index.ts';
import { ApiError } from './api-error.ts';
import { authenticate, type GatewayContext, resultContext } from './gateway-context.ts';
import { heldConnections } from './gateway-metrics.ts';
import { imagesResponse, inlineImage, terminalError } from './image-results.ts';
import { cancelJob } from './job-actions.ts';
import { followJob } from './job-follow.ts';
import { estimatedWaitMs, jobView, queuePosition } from './job-view.ts';
import { sseResponse, type SseSink } from './sse.ts';
import { tracedJson } from './request-trace.ts';

const JOB_NOT_FOUND = (id: string) =>
  new ApiError(404, 'job_not_found', `No job found with id '${id}'.`, 'id', { 'x-should-retry': 'false' });

/** The job, if it exists and belongs to the caller; another account's job is a 404, not a 403. */
async function ownJob(g: GatewayContext, c: Context): Promise<JobRecord> {
  const account = await authenticate(g, c);
  const id = c.req.param('id') ?? '';
  if (!JobId.safeParse(id).success) throw JOB_NOT_FOUND(id);
  const record = await g.infra.jobs.get(id);
  if (!record || record.account !== account.id) throw JOB_NOT_FOUND(id);
  return record;
}

async function positionOf(g: GatewayContext, record: JobRecord): Promise<number | null> {
  if (record.state !== 'queued') return null;
  return queuePosition(record, await g.infra.jobs.queueStats(), g.policy().policy);
}

export function jobRoutes(app: Hono, g: GatewayContext): void {
  app.get('/v1/images/jobs/:id', async (c) => {
    const record = await ownJob(g, c);
    const admission = g.admission.tier(record.lane, record.tier, Date.now());
    const ctx = resultContext(g, c, Date.now());
    const view = await jobView(record, await positionOf(g, record), admission, ctx);
    return tracedJson(c, ctx.inline.json(view), 200, {});
  });

  app.delete('/v1/images/jobs/:id', async (c) => {
    const record = await ownJob(g, c);
    if (isTerminal(record.state)) {
      throw new ApiError(409, 'job_already_finished', `The job is already ${record.state}.`, 'id', {
        'x-should-retry': 'false',
      });
    }
    const after = (await cancelJob(g.infra, record.id, 'cancelled by the client')) ?? record;
    if (after.state !== 'cancelled') {
      throw new ApiError(409, 'job_already_finished', `The job is already ${after.state}.`, 'id', {
        'x-should-retry': 'false',
      });
    }
    const ctx = resultContext(g, c, Date.now());
    return tracedJson(c, ctx.inline.json(await jobView(after, null, null, ctx)), 200, {});
  });

  app.get('/v1/images/jobs/:id/events', async (c) => {
    const record = await ownJob(g, c);
    heldConnections.inc();
    return sseResponse(
      async (sink, clientGone) => {
        const signal = AbortSignal.any([clientGone, g.shutdown]);
        let partials = 0;
        await sendQueued(g, sink, record);
        const outcome = await followJob(
          g.infra,
          record.id,
          0,
          async ({ event }) => {
            if (event.type === 'partial') {
              sink.event({
                type: 'job.partial_image',
                id: record.id,
                partial_image_index: partials++,
                pass: event.pass,
                passes: event.passes,
                b64_json: await inlineImage(g.infra.blobs, event.blob, sink.inline),
              });
              return;
            }
            await sendState(g, c, sink, record, event);
          },
          signal,
        );
        if (outcome === 'aborted' && !clientGone.aborted) {
          sink.error(
            new ApiError(
              503,
              'server_shutting_down',
              'The server is restarting; reconnect to follow the job.',
            ).envelope(),
          );
        }
      },
      { onEnd: () => heldConnections.dec() },
    );
  });

  app.get('/v1/images/files/:id/:index', async (c) => {
    const id = c.req.param('id');
    const index = Number(c.req.param('index'));
    const check = g.signer.verify(id, index, c.req.query('expires'), c.req.query('sig'), Date.now());
    if (check === 'bad')
      throw new ApiError(404, 'not_found', 'No such image.', null, { 'x-should-retry': 'false' });
    if (check === 'expired')
      throw new ApiError(403, 'url_expired', 'This image URL has expired.', null, {
        'x-should-retry': 'false',
      });
    const record = await g.infra.jobs.get(id);
    const image = record?.result?.images[index];
    const blob = image ? await g.infra.blobs.get(image.blob) : null;
    if (!blob) throw new ApiError(404, 'not_found', 'No such image.', null, { 'x-should-retry': 'false' });
    return c.body(new Uint8Array(blob.data), 200, {
      'content-type': blob.contentType,
      'cache-control': 'private, max-age=3600',
    });
  });
}

async function sendQueued(g: GatewayContext, sink: SseSink, record: JobRecord) {
  if (record.state !== 'queued') return;
  const position = await positionOf(g, record);
  const admission = g.admission.tier(record.lane, record.tier, Date.now());
  sink.event({
    type: 'job.queued',
    id: record.id,
    queue_position: position,
    estimated_wait_ms: estimatedWaitMs(position, admission),
  });
}

async function sendState(
  g: GatewayContext,
  c: Context,
  sink: SseSink,
  record: JobRecord,
  event: Extract<ProgressEvent, { type: 'state' }>,
) {
  if (event.state === 'queued') return;
  if (event.state === 'running') {
    sink.event({ type: 'job.running', id: record.id, pass: event.pass, passes: event.passes });
    return;
  }
  const final = (await g.infra.jobs.get(record.id)) ?? record;
  if (final.state === 'completed') {
    sink.event({
      type: 'job.completed',
      id: record.id,
      result: await imagesResponse(final, { ...resultContext(g, c, Date.now()), inline: sink.inline }),
    });
    return;
  }
  sink.event({ type: `job.${event.state}`, id: record.id, error: terminalError(final, 0).envelope().error });
}
