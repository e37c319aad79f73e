import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../../gateway/api-error.ts';
import { nodeIncoming } from '../../gateway/gateway-context.ts';
import { readJsonBody, readLimitedBody } from '../../gateway/request-body.ts';

const MAX = 64;

/** Answers with the byte count read, or the ApiError's status, through the real node adapter. */
function app() {
  const a = new Hono();
  a.post('/read', async (c) => {
    try {
      const incoming = c.req.query('incoming') ? nodeIncoming(c) : undefined;
      if (c.req.query('incoming')) expect(incoming).toBeDefined();
      const bytes = await readLimitedBody(c.req.raw, MAX, incoming);
      return c.json({ bytes: bytes.byteLength, text: new TextDecoder().decode(bytes) });
    } catch (err) {
      if (err instanceof ApiError) return c.json({ code: err.code }, err.status as 413);
      throw err;
    }
  });
  return a;
}

let server: ReturnType<typeof serve>;
let port = 0;

beforeAll(async () => {
  server = serve({ fetch: app().fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((r) => server.once('listening', () => r()));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function post(
  chunks: string[],
  chunked: boolean,
  path = '/read',
  gapMs = 0,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const total = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(total) },
      },
      (res) => {
        let data = '';
        res.on('data', (d) => {
          data += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
      },
    );
    req.on('error', reject);
    const send = async () => {
      for (const c of chunks) {
        req.write(c);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
      req.end();
    };
    void send();
  });
}

describe('request body', () => {
  it('reads a declared body within the bound whole, over the node adapter', async () => {
    const r = await post(['{"a":', '"é"}'], false);
    expect(r).toEqual({ status: 200, body: { bytes: 10, text: '{"a":"é"}' } });
  });

  it('takes a body the node parser already holds from its buffer, and waits for one still arriving', async () => {
    expect(await post(['{"a":', '"é"}'], false, '/read?incoming=1')).toEqual({
      status: 200,
      body: { bytes: 10, text: '{"a":"é"}' },
    });
    // Headers and the first half go out first; the rest 50 ms later, so the body is not complete
    // when the handler runs.
    expect(await post(['{"slow":', '"yes"}'], false, '/read?incoming=1', 50)).toEqual({
      status: 200,
      body: { bytes: 14, text: '{"slow":"yes"}' },
    });
    expect(await post(['ab', 'cd'], true, '/read?incoming=1')).toEqual({
      status: 200,
      body: { bytes: 4, text: 'abcd' },
    });
  });

  it('refuses a declared body over the bound before reading it', async () => {
    const r = await post(['x'.repeat(MAX + 1)], false);
    expect(r.status).toBe(413);
  });

  it('reads a chunked body within the bound and stops one that passes it', async () => {
    expect(await post(['ab', 'cd'], true)).toEqual({ status: 200, body: { bytes: 4, text: 'abcd' } });
    const over = await post(['x'.repeat(40), 'y'.repeat(40)], true).catch(() => ({ status: 413 }));
    expect(over.status).toBe(413);
  });

  it('checks the size again when a Request object declares less than it carries', async () => {
    const req = new Request('http://x/read', {
      method: 'POST',
      headers: { 'content-length': '2' },
      body: 'z'.repeat(MAX + 10),
    });
    await expect(readLimitedBody(req, MAX)).rejects.toMatchObject({ status: 413 });
  });

  it('parses JSON and refuses other media types and broken JSON', async () => {
    const json = (body: string, type = 'application/json') =>
      new Request('http://x/', { method: 'POST', headers: { 'content-type': type }, body });
    await expect(readJsonBody(json('{"p":1}'), MAX)).resolves.toEqual({ p: 1 });
    await expect(readJsonBody(json('{"p":'), MAX)).rejects.toMatchObject({
      status: 400,
      code: 'invalid_json',
    });
    await expect(readJsonBody(json('{}', 'text/plain'), MAX)).rejects.toMatchObject({ status: 415 });
  });
});
