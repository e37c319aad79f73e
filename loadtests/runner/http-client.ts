import { FormData, Pool } from 'undici';
import type { MixEntry } from '../campaign-schema.ts';
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
    const signal = AbortSignal.timeout(Math.max(1, Math.round(remaining)));
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
        const text = await res.body.text();
        const code = errorCode(text);
        return this.outcome(classify(res.statusCode, code), res.statusCode, headers, code, responseMs, false);
      }
      if (res.statusCode === 202) {
        await res.body.text();
        const location = String(headers.location ?? '');
        return await this.pollJob(location, req, signal, responseMs, headers);
      }
      if (req.entry.delivery === 'stream')
        return this.streamOutcome(await res.body.text(), headers, responseMs);
      // Read as bytes: decoding a megabyte of base64 JSON per image would load the generator's loop.
      await res.body.arrayBuffer();
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

  private streamOutcome(text: string, headers: HeaderBag, responseMs: number): AttemptOutcome {
    for (const line of text.split('\n')) {
      if (!line.startsWith('data:')) continue;
      const data = line.slice(5).trim();
      if (data.includes('"error"') && !data.includes('"type":"image_')) {
        const code = errorCode(data);
        return this.outcome(
          code === 'moderation_blocked' ? 'blocked' : 'failed',
          200,
          headers,
          code,
          responseMs,
          true,
        );
      }
      if (/"type"\s*:\s*"image_(generation|edit)\.completed"/.test(data)) {
        return this.outcome('completed', 200, headers, 'ok', responseMs, true);
      }
    }
    return this.outcome('failed', 200, headers, 'stream_truncated', responseMs, true);
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
        const text = await res.body.text();
        if (res.statusCode !== 200) continue;
        const job = JSON.parse(text) as { status?: string; state?: string; error?: { code?: string } | null };
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
