import { connect, createServer, type Server, type Socket } from 'node:net';

export interface LatencyProxyOptions {
  upstreamPort: number;
  upstreamHost?: string;
  /** Where the proxy listens on 127.0.0.1 (0 = any free port). */
  port?: number;
}

/**
 * A TCP proxy on 127.0.0.1 in front of one server whose added delay can change while connections
 * are open: a load test's slow dependency (the gateway reaches Redis through it). Each chunk is
 * held `delayMs` after it arrives, in both directions; it never overtakes an earlier chunk, since
 * a reordered byte would corrupt the protocol. When the server closes (a restart), the client's
 * connection closes too, so the client reconnects through the proxy.
 */
export class LatencyProxy {
  private delay = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly upstream: { host: string; port: number },
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  static async start(o: LatencyProxyOptions): Promise<LatencyProxy> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
    });
    return new LatencyProxy(server, { host: o.upstreamHost ?? '127.0.0.1', port: o.upstreamPort });
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  get delayMs(): number {
    return this.delay;
  }

  /** Applies to bytes arriving from now on; bytes already held keep their time. */
  setDelay(ms: number): void {
    this.delay = Math.max(0, ms);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const server = connect(this.upstream);
    for (const s of [client, server]) {
      s.setNoDelay(true);
      this.sockets.add(s);
      s.on('error', () => {});
      // A clean end is passed on by relay() once the held bytes are out; a reset, a refused
      // connection or a killed server cuts the other side at once, as the real failure would.
      s.on('close', (hadError) => {
        this.sockets.delete(s);
        if (hadError) for (const other of [client, server]) other.destroy();
      });
    }
    relay(client, server, () => this.delay);
    relay(server, client, () => this.delay);
  }
}

/** Moves bytes from one socket to the other, each chunk released at arrival + delay, in order. */
function relay(from: Socket, to: Socket, delayMs: () => number): void {
  const held: { due: number; chunk: Buffer }[] = [];
  let timer: NodeJS.Timeout | null = null;
  let ended = false;
  const write = (chunk: Buffer) => {
    // A slow reader pauses the writer instead of letting the proxy buffer without bound.
    if (!to.write(chunk)) from.pause();
  };
  to.on('drain', () => from.resume());
  const release = () => {
    timer = null;
    const now = performance.now();
    while (held.length > 0 && held[0].due <= now) write(held.shift()!.chunk);
    if (held.length > 0) timer = setTimeout(release, held[0].due - now);
    else if (ended) to.end();
  };
  from.on('data', (chunk: Buffer) => {
    const wait = delayMs();
    if (wait === 0 && held.length === 0) return write(chunk);
    const due = Math.max(performance.now() + wait, held.at(-1)?.due ?? 0);
    held.push({ due, chunk });
    if (timer === null) timer = setTimeout(release, due - performance.now());
  });
  from.on('end', () => {
    ended = true;
    if (held.length === 0) to.end();
  });
}
