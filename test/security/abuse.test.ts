import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientAddress } from '../../gateway/client-address.ts';
import {
  call,
  type Json,
  HEADERS_TIMEOUT_MS,
  KEYS,
  leaksInternals,
  REQUEST_TIMEOUT_MS,
  type SecureStack,
  startSecureStack,
} from './support/secure-stack.ts';

/**
 * Hostile input against the embedded stack: oversize bodies, prompts and uploads, multipart abuse,
 * slow clients on raw sockets, and X-Forwarded-For spoofing. Every answer must be a 4xx with the
 * OpenAI envelope (never a 5xx, never a stack trace), and the service must keep answering others.
 */

let stack: SecureStack;
let port: number;
beforeAll(async () => {
  stack = await startSecureStack();
  port = stack.port;
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

function expectClientError(r: { status: number; json: Json; text: string }, status: number, code?: string) {
  expect(r.status, r.text.slice(0, 300)).toBe(status);
  expect(r.json?.error).toBeDefined();
  if (code) expect(r.json.error.code).toBe(code);
  expect(leaksInternals(r.text)).toBe(false);
}

async function png(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 10, b: 10 } } })
    .png()
    .toBuffer();
}

/** A small valid PNG whose header claims `width`×`height` (a decompression bomb's shape). */
async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const buf = Buffer.from(await png(8, 8));
  // IHDR data starts after the 8-byte signature and the chunk's length and type (8 bytes).
  buf.writeUInt32BE(width, 16);
  buf.writeUInt32BE(height, 20);
  buf.writeUInt32BE(crc32(buf.subarray(12, 29)), 29);
  return buf;
}

function edit(form: FormData, key = KEYS.alice) {
  return call(stack, '/v1/images/edits', { method: 'POST', key, body: form, timeoutMs: 60_000 });
}

function gen(body: string | ReadableStream, headers: Record<string, string> = {}) {
  return call(stack, '/v1/images/generations', {
    method: 'POST',
    key: KEYS.alice,
    headers: { 'content-type': 'application/json', prefer: 'respond-async', ...headers },
    body,
    // @ts-expect-error undici needs duplex for stream bodies
    duplex: 'half',
    timeoutMs: 30_000,
  });
}

/** Sends raw bytes and resolves with whatever the server answered before closing (or '' on reset). */
function raw(head: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port });
    let out = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('data', (d) => {
      out += d.toString();
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.write(head);
  });
}

describe('size limits', () => {
  it('a JSON body over maxBodyBytes is a 413, declared or chunked', async () => {
    const big = JSON.stringify({ prompt: 'x', pad: 'y'.repeat(1_100_000) });
    expectClientError(await gen(big), 413, 'request_too_large');
    let sent = 0;
    const chunk = new TextEncoder().encode(`{"prompt":"${'z'.repeat(64 * 1024)}`);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        // An endless body: the server must stop reading it, not wait for the end.
        sent += chunk.byteLength;
        controller.enqueue(chunk);
        if (sent > 64 * 1024 * 1024) controller.close();
      },
    });
    const r = await gen(stream).catch((err) => ({ status: -1, json: null, text: String(err) }));
    if (r.status !== -1) expectClientError(r, 413, 'request_too_large');
    // The server hung up well before the client could push 64 MiB.
    expect(sent).toBeLessThan(32 * 1024 * 1024);
  });

  it('a huge declared Content-Length is refused before any body byte is sent', async () => {
    const answer = await raw(
      [
        'POST /v1/images/edits HTTP/1.1',
        'Host: 127.0.0.1',
        `Authorization: Bearer ${KEYS.alice}`,
        'Content-Type: multipart/form-data; boundary=xx',
        'Content-Length: 50000000000',
        'Connection: close',
        '',
        '',
      ].join('\r\n'),
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413/);
  });

  it('a prompt over maxPromptChars is a 400 naming the prompt', async () => {
    const r = await gen(JSON.stringify({ prompt: 'p'.repeat(32_001), size: '256x256' }));
    expectClientError(r, 400);
    expect(r.json.error.param).toBe('prompt');
  });

  it('an upload over maxImageBytes, a file past maxImageDimension and a lying PNG header are 400s', async () => {
    const huge = new FormData();
    huge.append('prompt', 'edit');
    huge.append(
      'image',
      new Blob([new Uint8Array(9 * 1024 * 1024).fill(7)], { type: 'image/png' }),
      'big.png',
    );
    expectClientError(await edit(huge), 400, 'image_too_large');

    const wide = new FormData();
    wide.append('prompt', 'edit');
    wide.append('image', new Blob([new Uint8Array(await png(2100, 4))], { type: 'image/png' }), 'wide.png');
    expectClientError(await edit(wide), 400, 'image_too_large');

    const bomb = new FormData();
    bomb.append('prompt', 'edit');
    bomb.append(
      'image',
      new Blob([new Uint8Array(await pngClaiming(60_000, 60_000))], { type: 'image/png' }),
      'bomb.png',
    );
    const b = await edit(bomb);
    expect(b.status).toBe(400);
    expect(leaksInternals(b.text)).toBe(false);

    const notImage = new FormData();
    notImage.append('prompt', 'edit');
    notImage.append('image', new Blob(['#!/bin/sh\necho hi\n'], { type: 'image/png' }), 'x.png');
    expectClientError(await edit(notImage), 400, 'invalid_image_format');
  });

  it('multipart abuse: too many parts, thousands of tiny parts, a malformed body', async () => {
    const many = new FormData();
    many.append('prompt', 'edit');
    many.append('image', new Blob([new Uint8Array(await png(16, 16))], { type: 'image/png' }), 'a.png');
    for (let i = 0; i < 20; i++) many.append(`extra${i}`, 'v');
    expectClientError(await edit(many), 400, 'too_many_parts');

    const flood = new FormData();
    for (let i = 0; i < 5_000; i++) flood.append('image[]', new Blob(['x']), `f${i}.png`);
    expectClientError(await edit(flood), 400);

    const malformed = await call(stack, '/v1/images/edits', {
      method: 'POST',
      key: KEYS.alice,
      headers: { 'content-type': 'multipart/form-data; boundary=zzz' },
      body: '--zzz\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\nabc',
    });
    expect(malformed.status).toBeGreaterThanOrEqual(400);
    expect(malformed.status).toBeLessThan(500);
  });

  it('a valid small edit still works after all of that', async () => {
    const ok = new FormData();
    ok.append('prompt', 'make it blue');
    ok.append('size', '256x256');
    ok.append('image', new Blob([new Uint8Array(await png(64, 64))], { type: 'image/png' }), 'ok.png');
    const r = await edit(ok);
    expect(r.status, r.text.slice(0, 300)).toBe(200);
  });
});

interface SlowSocket {
  socket: Socket;
  openedAt: number;
  closedAt: number | null;
  answer: string;
}

function openSlow(first: string, drip: () => string, everyMs: number): SlowSocket {
  const socket = connect({ host: '127.0.0.1', port });
  const slow: SlowSocket = { socket, openedAt: performance.now(), closedAt: null, answer: '' };
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write(drip());
  }, everyMs);
  socket.on('data', (d) => {
    slow.answer += d.toString();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    clearInterval(timer);
    slow.closedAt = performance.now();
  });
  socket.write(first);
  return slow;
}

async function untilClosed(sockets: SlowSocket[], limitMs: number): Promise<void> {
  const until = performance.now() + limitMs;
  while (sockets.some((s) => s.closedAt === null) && performance.now() < until) await sleep(100);
}

describe('slow clients', () => {
  it('slowloris headers and trickled bodies are cut by the policy timeouts while others are served', async () => {
    const N = 150;
    let n = 0;
    const headerDrips = Array.from({ length: N }, () =>
      openSlow('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n', () => `X-Slow-${n++}: a\r\n`, 200),
    );
    const bodyDrips = Array.from({ length: N / 3 }, () =>
      openSlow(
        [
          'POST /v1/images/generations HTTP/1.1',
          'Host: 127.0.0.1',
          `Authorization: Bearer ${KEYS.alice}`,
          'Content-Type: application/json',
          'Content-Length: 100000',
          '',
          '{"prompt":"',
        ].join('\r\n'),
        () => 'a',
        200,
      ),
    );
    const all = [...headerDrips, ...bodyDrips];
    try {
      // Others are served while the slow sockets are open.
      const served: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        const r = await call(stack, '/healthz', { timeoutMs: 5_000 });
        expect(r.status).toBe(200);
        served.push(performance.now() - t0);
        await sleep(100);
      }
      const sync = await call(stack, '/v1/images/generations', {
        method: 'POST',
        key: KEYS.bob,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'still served', size: '256x256' }),
        timeoutMs: 60_000,
      });
      expect(sync.status).toBe(200);

      // The guard is a hang detector (four times the longest configured timeout), not a latency claim.
      await untilClosed(all, 4 * REQUEST_TIMEOUT_MS);
      const open = all.filter((s) => s.closedAt === null).length;
      expect(open, `${open} slow sockets still open`).toBe(0);
      const headerCut = Math.max(...headerDrips.map((s) => s.closedAt! - s.openedAt));
      const bodyCut = Math.max(...bodyDrips.map((s) => s.closedAt! - s.openedAt));
      console.log(
        `slow clients: ${headerDrips.length} slow-header sockets cut within ${Math.round(headerCut)} ms ` +
          `(headersTimeout ${HEADERS_TIMEOUT_MS} ms), ${bodyDrips.length} slow-body sockets within ` +
          `${Math.round(bodyCut)} ms (requestTimeout ${REQUEST_TIMEOUT_MS} ms); /healthz meanwhile ` +
          `${Math.round(Math.max(...served))} ms at worst`,
      );
      // Cut by the timeout, not by chance: a trickling client never got a 2xx.
      for (const s of all) expect(s.answer).not.toMatch(/^HTTP\/1\.1 2/);
    } finally {
      for (const s of all) s.socket.destroy();
    }
  }, 60_000);
});

describe('client address', () => {
  it('X-Forwarded-For from an untrusted peer is ignored: sign-ups per client cannot be dodged', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await call(stack, '/v1/signup', {
        method: 'POST',
        headers: {
          'x-forwarded-for': `203.0.113.${i}`,
          'x-real-ip': `198.51.100.${i}`,
          forwarded: `for=192.0.2.${i}`,
        },
      });
      statuses.push(r.status);
    }
    // policy.signup.perClient is 5/h: five from this socket address, then refusals.
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429, 429, 429]);
  });

  it('behind a trusted proxy the right-most untrusted hop counts, so a client-written prefix changes nothing', () => {
    const addr = new ClientAddress('127.0.0.1,10.0.0.0/8');
    expect(addr.resolve('127.0.0.1', '6.6.6.6, 198.51.100.7')).toBe('198.51.100.7');
    expect(addr.resolve('127.0.0.1', '1.1.1.1, 198.51.100.7')).toBe('198.51.100.7');
    expect(addr.resolve('127.0.0.1', '198.51.100.7, 10.1.2.3')).toBe('198.51.100.7');
    // An untrusted peer's header is ignored entirely.
    expect(addr.resolve('198.51.100.9', '1.2.3.4')).toBe('198.51.100.9');
    expect(addr.resolve('::ffff:198.51.100.9', '1.2.3.4')).toBe('198.51.100.9');
  });
});
