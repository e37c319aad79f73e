import type { IncomingMessage } from 'node:http';
import { ApiError } from './api-error.ts';

const UTF8 = new TextDecoder();

function tooLarge(maxBytes: number): ApiError {
  return new ApiError(413, 'request_too_large', `Request body is larger than ${maxBytes} bytes.`, null, {
    'x-should-retry': 'false',
  });
}

/**
 * Reads the body up to `maxBytes`, refusing early on a declared Content-Length and stopping the
 * read as soon as a chunked body passes the bound, so an oversize upload costs no more than the bound.
 */
export async function readLimitedBody(
  req: Request,
  maxBytes: number,
  incoming?: IncomingMessage,
): Promise<Uint8Array> {
  const declared = req.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (declared !== null)
    return (incoming && arrivedBody(incoming, Number(declared))) ?? readDeclaredBody(req, maxBytes);
  return readChunkedBody(req, maxBytes);
}

/**
 * The whole body when the HTTP parser already holds it (a small request arrives in one packet
 * with its headers): taken from the node request's buffer at once, with no listener, promise or
 * event-loop turn. Null when any of it is still on the way or something read it already.
 */
function arrivedBody(incoming: IncomingMessage, declared: number): Uint8Array | null {
  if (!incoming.complete || incoming.readableDidRead || incoming.readableFlowing !== null) return null;
  if (declared === 0 || incoming.readableLength !== declared) return null;
  return incoming.read() as Buffer;
}

/**
 * A body with a Content-Length within the bound: the HTTP parser delivers no more than declared,
 * so it is read whole. On @hono/node-server this takes the adapter's direct path from the socket,
 * which skips building a web Request, its AbortSignal and a web stream (most of a small request's
 * cost). The size is checked again for Request objects whose header was not enforced by a parser.
 */
async function readDeclaredBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(await req.arrayBuffer());
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  return bytes;
}

async function readChunkedBody(req: Request, maxBytes: number): Promise<Uint8Array> {
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

export async function readJsonBody(
  req: Request,
  maxBytes: number,
  incoming?: IncomingMessage,
): Promise<unknown> {
  const type = req.headers.get('content-type') ?? '';
  if (!type.includes('application/json')) {
    throw new ApiError(415, 'unsupported_media_type', 'Content-Type must be application/json.', null, {
      'x-should-retry': 'false',
    });
  }
  const bytes = await readLimitedBody(req, maxBytes, incoming);
  try {
    return JSON.parse(UTF8.decode(bytes));
  } catch {
    throw new ApiError(
      400,
      'invalid_json',
      'We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.',
      null,
      { 'x-should-retry': 'false' },
    );
  }
}
