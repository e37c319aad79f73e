import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LatencyProxy } from '../../../loadtests/runner/latency-proxy.ts';

/** An echo server that notes when each connection first received data (performance.now()). */
function echoServer() {
  const firstByteAt: number[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let seen = false;
    s.on('data', (d) => {
      if (!seen) firstByteAt.push(performance.now());
      seen = true;
      s.write(d);
    });
    s.on('end', () => s.end());
  });
  return { server, firstByteAt, sockets };
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with every byte the socket received once `n` bytes arrived, and when the first came. */
function receive(s: Socket, n: number): Promise<{ data: Buffer; firstAt: number }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    let firstAt = 0;
    s.on('data', (d: Buffer) => {
      firstAt ||= performance.now();
      chunks.push(d);
      got += d.length;
      if (got >= n) resolve({ data: Buffer.concat(chunks), firstAt });
    });
  });
}

describe('latency proxy', () => {
  const echo = echoServer();
  let proxy: LatencyProxy;

  beforeAll(async () => {
    proxy = await LatencyProxy.start({ upstreamPort: await listen(echo.server) });
  });
  afterAll(async () => {
    await proxy.close();
    await new Promise<void>((r) => echo.server.close(() => r()));
  });

  it('adds its delay on the way to the server and again on the way back', async () => {
    const delay = 250;
    proxy.setDelay(delay);
    const s = await open(proxy.port);
    const answer = receive(s, 5);
    const sentAt = performance.now();
    s.write('hello');
    const { data, firstAt } = await answer;
    const arrivedAt = echo.firstByteAt.at(-1)!;
    s.destroy();
    expect(data.toString()).toBe('hello');
    // Timers never fire early by more than the clock's millisecond rounding.
    expect(arrivedAt - sentAt).toBeGreaterThanOrEqual(delay - 2);
    expect(firstAt - arrivedAt).toBeGreaterThanOrEqual(delay - 2);
  });

  it('passes every byte intact and in order while the delay changes mid-stream, then adds none when off', async () => {
    proxy.setDelay(30);
    const s = await open(proxy.port);
    const payload = randomBytes(2 * 1024 * 1024);
    const answer = receive(s, payload.length);
    for (let off = 0, i = 0; off < payload.length; off += 64 * 1024, i++) {
      s.write(payload.subarray(off, off + 64 * 1024));
      // Shorter delays for later chunks: they must still wait for the earlier ones.
      if (i % 4 === 3) proxy.setDelay(i % 8 === 3 ? 0 : 30);
      await new Promise((r) => setImmediate(r));
    }
    const { data } = await answer;
    expect(data.length).toBe(payload.length);
    expect(data.equals(payload)).toBe(true);

    proxy.setDelay(400);
    const slow = receive(s, 1);
    let t = performance.now();
    s.write('x');
    await slow;
    const delayedMs = performance.now() - t;
    proxy.setDelay(0);
    const fast = receive(s, 1);
    t = performance.now();
    s.write('y');
    await fast;
    const offMs = performance.now() - t;
    s.destroy();
    expect(delayedMs).toBeGreaterThanOrEqual(800 - 4);
    expect(offMs).toBeLessThan(delayedMs / 2);
  });

  it('closes the client when the server goes away, so the client reconnects', async () => {
    const gone = echoServer();
    const port = await listen(gone.server);
    const p = await LatencyProxy.start({ upstreamPort: port });
    try {
      const s = await open(p.port);
      const closed = new Promise<void>((r) => s.once('close', () => r()));
      s.on('error', () => {});
      s.resume();
      s.write('ping');
      await new Promise((r) => setTimeout(r, 50));
      gone.server.close();
      for (const c of gone.sockets) c.destroy();
      await closed;
      const refused = await open(p.port);
      const cut = new Promise<void>((r) => refused.once('close', () => r()));
      refused.on('error', () => {});
      await cut;
    } finally {
      await p.close();
    }
  });
});
