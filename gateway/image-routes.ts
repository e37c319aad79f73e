import { boundedSignal } from '../common/bounded-signal.ts';
import type { Context, Hono } from 'hono';
import { type Account, isTerminal, type JobRecord, type Operation } from '../common/contracts/index.ts';
import {
  type AdmissionDecision,
  type AdmissionInput,
  decideAdmission,
  refusalBeforeBody,
} from './admission.ts';
import { ApiError, refusalBody } from './api-error.ts';
import { borrowableBuckets } from './borrowable-buckets.ts';
import { accountTag } from './api-keys.ts';
import { readEditForm, type UploadedImage } from './edit-form.ts';
import { enqueueJob } from './enqueue.ts';
import { authenticate, type GatewayContext, nodeIncoming, resultContext } from './gateway-context.ts';
import { admissionSeconds, admissionTotal, firstPartialSeconds, heldConnections } from './gateway-metrics.ts';
import { type ResolvedImageRequest, resolveImageRequest } from './image-request.ts';
import { imagesResponse, inlineImage, terminalError } from './image-results.ts';
import { cancelJob } from './job-actions.ts';
import { followJob } from './job-follow.ts';
import { jobView } from './job-view.ts';
import { ImageEditRequest, ImageGenerationRequest, zodToApiError } from './openai-schemas.ts';
import { type Preference, parsePrefer } from './prefer.ts';
import { readJsonBody } from './request-body.ts';
import {
  jitteredHintMs,
  NO_RETRY,
  type RateLimitView,
  rateLimitHeaders,
  retryHeaders,
} from './retry-hints.ts';
import { defaultRequestCost } from '../common/policy/request-cost.ts';
import { rolloutAllows } from '../common/policy/rollout.ts';
import { sseResponse } from './sse.ts';
import { requestTrace, tracedJson } from './request-trace.ts';
import { requiredTokens } from '../common/token-bucket.ts';

const MAX_IDEMPOTENCY_KEY = 255;

interface Submission {
  account: Account;
  resolved: ResolvedImageRequest;
  images: UploadedImage[];
  mask: UploadedImage | null;
}

export function imageRoutes(app: Hono, g: GatewayContext): void {
  app.post('/v1/images/generations', async (c) => {
    const account = await authenticate(g, c);
    const early = refuseBeforeBody(g, c, account, 'generate');
    if (early) return early;
    const policy = g.policy().policy;
    const body = await readJsonBody(c.req.raw, policy.limits.maxBodyBytes, nodeIncoming(c));
    const parsed = ImageGenerationRequest.safeParse(body);
    if (!parsed.success) throw zodToApiError(parsed.error, body);
    const resolved = resolveImageRequest(parsed.data, 'generate', policy);
    return submit(g, c, { account, resolved, images: [], mask: null });
  });

  app.post('/v1/images/edits', async (c) => {
    const account = await authenticate(g, c);
    const early = refuseBeforeBody(g, c, account, 'edit');
    if (early) return early;
    const policy = g.policy().policy;
    const form = await readEditForm(c.req.raw, policy);
    const parsed = ImageEditRequest.safeParse(form.fields);
    if (!parsed.success) throw zodToApiError(parsed.error, form.fields);
    const resolved = resolveImageRequest(parsed.data, 'edit', policy);
    return submit(g, c, { account, resolved, images: form.images, mask: form.mask });
  });
}

/**
 * A refusal the tier's admission state makes whatever the body says (shed, queue too long, edits
 * paused), answered before the body is read or parsed: in a spike most requests of a shed tier end
 * here (measured: the shed path went from 0.52× to 0.64–0.75× a bare Hono handler). Not for a request
 * with an Idempotency-Key, which may name a job already made. Its cost, for the controller's demand
 * signal, is the recent typical cost of its kind (the body that would say is not read).
 */
function refuseBeforeBody(
  g: GatewayContext,
  c: Context,
  account: Account,
  operation: Operation,
): Response | null {
  const policy = g.policy().policy;
  if (!policy.tiers[account.tier] || !policy.lanes[account.lane]) return null;
  if (c.req.header('idempotency-key') !== undefined) return null;
  const now = Date.now();
  const tier = g.admission.tier(account.lane, account.tier, now);
  const d = refusalBeforeBody(tier, operation, policy.rollout.length > 0, Math.random());
  if (!d) return null;
  const cost = g.counters.typicalCost(
    account.lane,
    account.tier,
    operation,
    defaultRequestCost(policy, operation),
  );
  g.counters.count('offered', account.lane, account.tier, cost);
  return refusal(g, c, account, d, null, cost);
}

function gateOpen(g: GatewayContext, s: Submission, holdsConnection: boolean, now: number): boolean {
  const gates = g.policy().policy.rollout;
  if (gates.length === 0) return true;
  const { tier, id } = s.account;
  if (!rolloutAllows(gates, s.resolved.operation, tier, id, now)) return false;
  if (s.resolved.stream && !rolloutAllows(gates, 'stream', tier, id, now)) return false;
  if (holdsConnection && !s.resolved.stream && !rolloutAllows(gates, 'sync', tier, id, now)) return false;
  return true;
}

async function submit(g: GatewayContext, c: Context, s: Submission): Promise<Response> {
  const now = Date.now();
  const started = performance.now();
  const { account, resolved } = s;
  const policy = g.policy().policy;
  const tierPolicy = policy.tiers[account.tier];
  if (!tierPolicy || !policy.lanes[account.lane]) {
    throw new ApiError(
      403,
      'tier_not_configured',
      'Your plan is not available at the moment.',
      null,
      NO_RETRY,
    );
  }
  const prefer = parsePrefer(c.req.header('prefer'));
  const idempotencyKey = c.req.header('idempotency-key') ?? null;
  if (
    idempotencyKey !== null &&
    (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY)
  ) {
    throw new ApiError(
      400,
      'invalid_idempotency_key',
      `Idempotency-Key must be 1–${MAX_IDEMPOTENCY_KEY} characters.`,
      null,
      NO_RETRY,
    );
  }
  const holdsConnection = resolved.stream || !prefer.respondAsync;

  // A key this gateway already turned into a job: answer with that job, no admission spent.
  if (idempotencyKey) {
    const known = g.idempotency.get(account.id, idempotencyKey, now);
    const record = known ? await g.infra.jobs.get(known) : null;
    if (record)
      return answer(
        g,
        c,
        record,
        prefer,
        resolved.stream ? 'stream' : holdsConnection ? 'sync' : 'async',
        {},
      );
  }

  const retryCount = Number(c.req.header('x-stainless-retry-count') ?? 0) || 0;
  const tierAdmission = g.admission.tier(account.lane, account.tier, now);
  g.counters.count('offered', account.lane, account.tier, resolved.cost);
  g.counters.priced(account.lane, account.tier, resolved.operation, resolved.cost);
  const input: AdmissionInput = {
    operation: resolved.operation,
    holdsConnection,
    allowAsync: prefer.respondAsync,
    retry: retryCount > 0,
    cost: resolved.cost,
    gateOpen: gateOpen(g, s, holdsConnection, now),
    tier: tierAdmission,
    syncWaitMs: tierPolicy.syncWait,
    retryHeadroom: policy.limits.retryHeadroom,
    random: Math.random(),
  };
  const first = decideAdmission(input);
  if (first.kind === 'refuse') return refusal(g, c, account, first, null, resolved.cost);
  if (first.kind !== 'check-limits') throw new Error('admission skipped the limits');

  const release = holdsConnection ? g.held.acquire(account.id, tierPolicy.maxConnections) : () => {};
  if (!release) {
    throw new ApiError(
      429,
      'too_many_connections',
      `Too many open requests on your account (at most ${tierPolicy.maxConnections}). Wait for one to finish.`,
      null,
      retryHeaders(jitteredHintMs(1000, input.random), null),
    );
  }
  try {
    const rate = tierAdmission?.rate ?? null;
    const burst = tierAdmission?.burst ?? 0;
    const bucket = `${account.lane}/${account.tier}`;
    const fallbacks =
      rate === null
        ? []
        : borrowableBuckets(policy, account.lane, account.tier, (l, t) => g.admission.tier(l, t, now));
    const need = requiredTokens(first.tokens, first.need, burst);
    const sureWait =
      rate === null || fallbacks.length > 0 ? null : g.buckets.wait(bucket, need, rate, burst, now);
    if (sureWait !== null) {
      const global = { ok: false, waitMs: sureWait };
      const decision = decideAdmission({ ...input, limits: { account: UNCHARGED, global } });
      admissionSeconds.observe([], (performance.now() - started) / 1000);
      release();
      if (decision.kind === 'refuse') return refusal(g, c, account, decision, null, resolved.cost);
      throw new Error('a sure bucket refusal was admitted');
    }
    const [accountLimit, global] = await Promise.all([
      g.limits.consume(account.tier, account.id),
      rate === null
        ? null
        : g.infra.coord.takeTokens(bucket, first.tokens, rate, burst, now, fallbacks, need),
    ]);
    if (rate !== null && global && !global.ok && fallbacks.length === 0)
      g.buckets.refused(bucket, need, global.waitMs, rate, burst, now);
    const decision = decideAdmission({ ...input, limits: { account: accountLimit, global } });
    admissionSeconds.observe([], (performance.now() - started) / 1000);
    if (decision.kind === 'refuse') {
      release();
      return refusal(g, c, account, decision, accountLimit.view, resolved.cost);
    }
    if (decision.kind !== 'admit') throw new Error('admission undecided after limits');
    const { record, created } = await enqueueJob(
      g.infra,
      policy,
      {
        account,
        resolved,
        brownout: decision.brownout,
        trace: requestTrace(c),
        idempotencyKey,
        images: s.images,
        mask: s.mask,
      },
      now,
    );
    if (idempotencyKey)
      g.idempotency.remember(account.id, idempotencyKey, record.id, policy.limits.idempotencyTtl, now);
    g.counters.count('admitted', account.lane, account.tier, resolved.cost);
    admissionTotal.inc([account.lane, account.tier, 'admitted', created ? 'new' : 'repeat']);
    // The fields (a hash among them) are built only when the line is written.
    if (g.log.isLevelEnabled('debug'))
      g.log.debug(
        {
          jobId: record.id,
          account: accountTag(account.id),
          lane: account.lane,
          tier: account.tier,
          traceId: requestTrace(c).traceId,
          respond: decision.respond,
          brownout: decision.brownout?.level ?? 0,
        },
        'admitted',
      );
    const how = resolved.stream && decision.respond === 'sync' ? 'stream' : decision.respond;
    return answer(g, c, record, prefer, how, rateLimitHeaders(accountLimit.view), release);
  } catch (err) {
    release();
    throw err;
  }
}

function refusal(
  g: GatewayContext,
  c: Context,
  account: Account,
  d: Extract<AdmissionDecision, { kind: 'refuse' }>,
  view: RateLimitView | null,
  cost: number,
): Response {
  const limitView = view ?? {
    limit: g.limits.points(account.tier),
    remaining: 0,
    resetMs: d.hintMs ?? 60_000,
  };
  const headers = d.hintMs !== null ? retryHeaders(d.hintMs, limitView) : { ...NO_RETRY };
  g.counters.count('shed', account.lane, account.tier, cost);
  admissionTotal.inc([account.lane, account.tier, 'shed', d.reason]);
  g.refusalLog((dropped) =>
    g.log.info(
      {
        account: accountTag(account.id),
        lane: account.lane,
        tier: account.tier,
        reason: d.reason,
        status: d.status,
        hintMs: d.hintMs,
        traceId: requestTrace(c).traceId,
        dropped,
      },
      'refused',
    ),
  );
  return tracedJson(c, refusalBody(d.status, d.code, d.message), d.status, headers);
}

/** The account limit of a request refused before it: not charged, so it says nothing. */
const UNCHARGED = { ok: true, waitMs: 0, view: { limit: 0, remaining: 0, resetMs: 0 } };

type Answer = 'sync' | 'async' | 'stream';

async function answer(
  g: GatewayContext,
  c: Context,
  record: JobRecord,
  prefer: Preference,
  how: Answer,
  headers: Record<string, string>,
  release: () => void = () => {},
): Promise<Response> {
  if (how === 'stream') return streamJob(g, c, record, headers, release);
  try {
    const policy = g.policy().policy;
    const syncWaitMs = policy.tiers[record.tier]?.syncWait ?? 0;
    const waitMs = how === 'sync' ? syncWaitMs : Math.min((prefer.waitS ?? 0) * 1000, syncWaitMs);
    const outcome = waitMs > 0 ? await waitForTerminal(g, c, record.id, waitMs) : 'timeout';
    const latest = outcome === 'terminal' ? await g.infra.jobs.get(record.id) : record;
    if (latest && isTerminal(latest.state)) return finalAnswer(g, c, latest, headers);
    if (outcome === 'client-gone') {
      if (how === 'sync' && !c.req.header('idempotency-key'))
        await cancelJob(g.infra, record.id, 'client disconnected');
      return new Response(null, { status: 499 });
    }
    if (how === 'async' || prefer.respondAsync) return accepted(g, c, latest ?? record, headers);
    return syncGaveUp(g, c, record, outcome === 'shutdown', headers);
  } finally {
    release();
  }
}

async function finalAnswer(
  g: GatewayContext,
  c: Context,
  record: JobRecord,
  headers: Record<string, string>,
) {
  if (record.state !== 'completed') throw terminalError(record, Math.random());
  const ctx = resultContext(g, c, Date.now());
  const body = await imagesResponse(record, ctx);
  return tracedJson(c, ctx.inline.json(body), 200, { ...headers, vary: 'Prefer' });
}

async function accepted(g: GatewayContext, c: Context, record: JobRecord, headers: Record<string, string>) {
  const ctx = resultContext(g, c, Date.now());
  const view = await jobView(record, null, null, ctx);
  return tracedJson(c, ctx.inline.json(view), 202, {
    ...headers,
    location: `/v1/images/jobs/${record.id}`,
    'preference-applied': 'respond-async',
    vary: 'Prefer',
  });
}

/**
 * A sync request whose job did not finish within the tier's syncWait. Without an idempotency key
 * nobody can collect the result, so the job is cancelled before it takes the GPU; with one, the
 * retry picks up the same job.
 */
async function syncGaveUp(
  g: GatewayContext,
  c: Context,
  record: JobRecord,
  shutdown: boolean,
  headers: Record<string, string>,
): Promise<never> {
  const keep = shutdown || Boolean(c.req.header('idempotency-key'));
  if (!keep) await cancelJob(g.infra, record.id, 'sync wait exceeded');
  throw new ApiError(
    503,
    shutdown ? 'server_shutting_down' : 'sync_wait_exceeded',
    shutdown
      ? 'The server is restarting; retry with the same Idempotency-Key to get this job.'
      : 'The job did not finish within the synchronous wait of your plan. Send `Prefer: respond-async` to queue long jobs.',
    null,
    {
      ...headers,
      ...retryHeaders(jitteredHintMs(2000, Math.random()), null),
      ...(keep ? { location: `/v1/images/jobs/${record.id}` } : {}),
    },
  );
}

async function waitForTerminal(
  g: GatewayContext,
  c: Context,
  jobId: string,
  waitMs: number,
): Promise<'terminal' | 'timeout' | 'client-gone' | 'shutdown'> {
  const wait = boundedSignal(waitMs, [c.req.raw.signal, g.shutdown]);
  heldConnections.inc();
  try {
    const r = await followJob(g.infra, jobId, 0, () => {}, wait.signal);
    if (r === 'terminal') return 'terminal';
    if (g.shutdown.aborted) return 'shutdown';
    return wait.timedOut() ? 'timeout' : 'client-gone';
  } finally {
    wait.dispose();
    heldConnections.dec();
  }
}

function streamJob(
  g: GatewayContext,
  c: Context,
  record: JobRecord,
  headers: Record<string, string>,
  release: () => void,
): Response {
  const started = performance.now();
  const params = record.message.params;
  const prefix = record.message.operation === 'edit' ? 'image_edit' : 'image_generation';
  const cap = Math.min(params.partialImages, record.message.brownout?.partialImages ?? 3);
  const settings = {
    size: params.size,
    quality: params.quality,
    background: params.background,
    output_format: params.outputFormat,
  };
  heldConnections.inc();
  return sseResponse(
    async (sink, clientGone) => {
      let sent = 0;
      const signal = AbortSignal.any([clientGone, g.shutdown]);
      const outcome = await followJob(
        g.infra,
        record.id,
        0,
        async (e) => {
          if (e.event.type !== 'partial' || sent >= cap) return;
          const b64 = await inlineImage(g.infra.blobs, e.event.blob, sink.inline);
          if (sent === 0) firstPartialSeconds.observe((performance.now() - started) / 1000);
          sink.event({
            type: `${prefix}.partial_image`,
            partial_image_index: sent++,
            b64_json: b64,
            created_at: nowSeconds(),
            ...settings,
          });
        },
        signal,
      );
      if (outcome === 'aborted') {
        if (clientGone.aborted && !c.req.header('idempotency-key'))
          await cancelJob(g.infra, record.id, 'client disconnected');
        else
          sink.error(
            new ApiError(
              503,
              'server_shutting_down',
              'The server is restarting; the job continues.',
            ).envelope(),
          );
        return;
      }
      const final = await g.infra.jobs.get(record.id);
      if (final?.state !== 'completed' || !final.result) {
        sink.error(terminalError(final ?? record, Math.random()).envelope());
        return;
      }
      for (const img of final.result.images) {
        const b64 = await inlineImage(g.infra.blobs, img.blob, sink.inline);
        sink.event({
          type: `${prefix}.completed`,
          b64_json: b64,
          created_at: nowSeconds(),
          ...settings,
          size: `${img.width}x${img.height}`,
          usage: final.result.usage,
        });
      }
    },
    {
      headers: { ...headers, vary: 'Prefer', 'x-spillway-job-id': record.id },
      onEnd: () => {
        heldConnections.dec();
        release();
      },
    },
  );
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
