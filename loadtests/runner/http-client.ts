import { FormData, Pool } from 'undici';
import type { MixEntry } from '../campaign-schema.ts';
import { boundedSignal } from '../../common/bounded-signal.ts';
import { drainBody, readHead, type SseEnding, sseEnding } from './response-body.ts';
import type { HeaderBag } from './retry-policy.ts';

/**
 * One HTTP attempt of one request, speaking the OpenAI Images API the way the SDK does:
 * sync JSON, an SSE stream read to its completed event, or `Prefer: respond-async` then polling.
 */
export type AttemptKind = 'completed' | 'refused' | 'blocked' | 'failed' | 'timeout';

export interface AttemptOutcome {
  kind: AttemptKind;
  status: number | null;
  headers: HeaderBag;
  /** The error code of the envelope, or a transport reason. */
  code: string;
  /** Send to first response headers (how fast a refusal is answered). */
  responseMs: number;
  /** Whether the gateway accepted the job (2xx), even if it did not finish. */
  admitted: boolean;
}

export interface AttemptRequest {
  entry: MixEntry;
  apiKey: string;
  prompt: string;
  retryCount: number;
  /** Absolute deadline (performance.now() ms) after which the client gives up. */
  deadline: number;
  pollIntervalMs: number;
}

const TERMINAL_OK = new Set(['completed', 'succeeded']);
const TERMINAL_BAD = new Set(['failed', 'expired', 'cancelled', 'blocked']);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function errorCode(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { code?: string | null; type?: string } };
    return body.error?.code ?? body.error?.type ?? 'unknown';
  } catch {
    return 'unparseable';
  }
}

/** Error envelopes are a few hundred bytes; a longer body is not one worth parsing. */
const ERROR_HEAD_BYTES = 16 * 1024;
/** A job view without images is small; with them, its status is near the start. */
const VIEW_HEAD_BYTES = 64 * 1024;

interface PolledJob {
  status?: string;
  state?: string;
  error?: { code?: string } | null;
}

/** The job view's state, parsed whole when it fits the head, else read from the head's "status". */
function jobState({ head, complete }: { head: string; complete: boolean }): PolledJob {
  if (complete) return JSON.parse(head) as PolledJob;
  return { status: /"status"\s*:\s*"([a-z_]+)"/.exec(head)?.[1] };
}

function classify(status: number, code: string): AttemptKind {
  if (status === 429 || status === 503) return 'refused';
  if (status === 400 && code === 'moderation_blocked') return 'blocked';
  return 'failed';
}

export class ImagesClient {
  readonly pool: Pool;

  constructor(
    readonly baseUrl: string,
    connections: number,
    private readonly editImage: Uint8Array,
  ) {
    // Sync requests hold their connection until the image is done: a capped pool would queue
    // refusals behind them and time the queue, not the gateway.
    this.pool = new Pool(baseUrl, {
      connections: connections > 0 ? connections : null,
      pipelining: 1,
      keepAliveTimeout: 30_000,
    });
  }

  async attempt(req: AttemptRequest): Promise<AttemptOutcome> {
    const sent = performance.now();
    const remaining = req.deadline - sent;
    if (remaining <= 0) return this.outcome('timeout', null, {}, 'gave_up', 0, false);
    const giveUp = boundedSignal(Math.max(1, Math.round(remaining)));
    const signal = giveUp.signal;
    try {
      const res = await this.pool.request({
        ...this.buildRequest(req),
        signal,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      const responseMs = performance.now() - sent;
      const headers = res.headers as HeaderBag;
      if (res.statusCode >= 300) {
        const { head } = await readHead(res.body, ERROR_HEAD_BYTES);
        const code = errorCode(head);
        return this.outcome(classify(res.statusCode, code), res.statusCode, headers, code, responseMs, false);
      }
      if (res.statusCode === 202) {
        await drainBody(res.body);
        const location = String(headers.location ?? '');
        return await this.pollJob(location, req, signal, responseMs, headers);
      }
      if (req.entry.delivery === 'stream')
        return this.streamOutcome(await sseEnding(res.body), headers, responseMs);
      await drainBody(res.body);
      return this.outcome('completed', res.statusCode, headers, 'ok', responseMs, true);
    } catch (err) {
      const responseMs = performance.now() - sent;
      if (signal.aborted) return this.outcome('timeout', null, {}, 'gave_up', responseMs, false);
      return this.outcome(
        'failed',
        null,
        {},
        (err as NodeJS.ErrnoException).code ?? 'network',
        responseMs,
        false,
      );
    } finally {
      giveUp.dispose();
    }
  }

  private outcome(
    kind: AttemptKind,
    status: number | null,
    headers: HeaderBag,
    code: string,
    responseMs: number,
    admitted: boolean,
  ): AttemptOutcome {
    return { kind, status, headers, code, responseMs, admitted };
  }

  private streamOutcome(ending: SseEnding, headers: HeaderBag, responseMs: number): AttemptOutcome {
    if (ending.kind === 'completed') return this.outcome('completed', 200, headers, 'ok', responseMs, true);
    if (ending.kind === 'truncated')
      return this.outcome('failed', 200, headers, 'stream_truncated', responseMs, true);
    const code = errorCode(ending.data);
    const kind = code === 'moderation_blocked' ? 'blocked' : 'failed';
    return this.outcome(kind, 200, headers, code, responseMs, true);
  }

  private async pollJob(
    location: string,
    req: AttemptRequest,
    signal: AbortSignal,
    responseMs: number,
    headers: HeaderBag,
  ): Promise<AttemptOutcome> {
    if (!location) return this.outcome('failed', 202, headers, 'no_location', responseMs, true);
    const path = location.startsWith('http') ? new URL(location).pathname : location;
    while (!signal.aborted) {
      await sleep(req.pollIntervalMs);
      try {
        const res = await this.pool.request({
          method: 'GET',
          path,
          headers: { authorization: `Bearer ${req.apiKey}` },
          signal,
        });
        if (res.statusCode !== 200) {
          await drainBody(res.body);
          continue;
        }
        const job = jobState(await readHead(res.body, VIEW_HEAD_BYTES));
        const state = job.status ?? job.state ?? '';
        if (TERMINAL_OK.has(state)) return this.outcome('completed', 200, headers, 'ok', responseMs, true);
        if (state === 'blocked') return this.outcome('blocked', 200, headers, state, responseMs, true);
        if (TERMINAL_BAD.has(state)) {
          return this.outcome('failed', 200, headers, job.error?.code ?? state, responseMs, true);
        }
      } catch {
        // A lost poll is retried at the next interval until the client gives up.
      }
    }
    return this.outcome('timeout', 202, headers, 'gave_up', responseMs, true);
  }

  private buildRequest(req: AttemptRequest) {
    const e = req.entry;
    const headers: Record<string, string> = {
      authorization: `Bearer ${req.apiKey}`,
      'x-stainless-retry-count': String(req.retryCount),
    };
    if (e.delivery === 'async') headers.prefer = 'respond-async';
    if (e.operation === 'edit') {
      const form = new FormData();
      form.append('image', new Blob([Buffer.from(this.editImage)], { type: 'image/png' }), 'input.png');
      form.append('prompt', req.prompt);
      form.append('model', 'gpt-image-1');
      form.append('size', e.size);
      if (e.delivery === 'stream') {
        form.append('stream', 'true');
        form.append('partial_images', String(e.partialImages));
      }
      return { method: 'POST' as const, path: '/v1/images/edits', headers, body: form };
    }
    headers['content-type'] = 'application/json';
    const body: Record<string, unknown> = { model: 'gpt-image-1', prompt: req.prompt, size: e.size, n: 1 };
    if (e.delivery === 'stream') Object.assign(body, { stream: true, partial_images: e.partialImages });
    return { method: 'POST' as const, path: '/v1/images/generations', headers, body: JSON.stringify(body) };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
