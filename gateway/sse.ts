import { InlineBlobs } from './inline-blobs.ts';

const encoder = new TextEncoder();

export const KEEP_ALIVE_MS = 10_000;

export interface SseSink {
  /** A `data:` event whose JSON carries its own `type`; the `event:` line equals it. */
  event(data: { type: string } & Record<string, unknown>): void;
  /** Images for the next event's b64_json fields (see InlineBlobs). */
  readonly inline: InlineBlobs;
  /** An error after the stream started: a bare `data:` line with OpenAI's error envelope. */
  error(envelope: unknown): void;
}

/**
 * A Server-Sent Events response. `run` writes events until it returns; comment heartbeats keep
 * idle proxies from closing the stream; `signal` aborts when the client goes away.
 */
export function sseResponse(
  run: (sink: SseSink, signal: AbortSignal) => Promise<void>,
  options: { keepAliveMs?: number; headers?: Record<string, string>; onEnd?: () => void } = {},
): Response {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    if (timer) clearInterval(timer);
    options.onEnd?.();
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (chunk: string | Uint8Array) => {
        if (!ended) controller.enqueue(typeof chunk === 'string' ? encoder.encode(chunk) : chunk);
      };
      const inline = new InlineBlobs();
      timer = setInterval(() => write(': keep-alive\n\n'), options.keepAliveMs ?? KEEP_ALIVE_MS);
      const sink: SseSink = {
        inline,
        event: (data) => write(inline.json(data, `event: ${data.type}\ndata: `, '\n\n')),
        error: (envelope) => write(`data: ${JSON.stringify(envelope)}\n\n`),
      };
      run(sink, abort.signal)
        .catch(() =>
          sink.error({
            error: {
              message: 'The stream failed.',
              type: 'server_error',
              param: null,
              code: 'stream_failed',
            },
          }),
        )
        .finally(() => {
          if (!ended) controller.close();
          end();
        });
    },
    cancel() {
      abort.abort();
      end();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...options.headers,
    },
  });
}
