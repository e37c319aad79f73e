import { createServer, type Server, type Socket, connect } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 that forwards to `target` and can delay every chunk in both
 * directions (order kept): the chaos suite's slow dependency. All services reach Redis through it.
 */
export class DelayProxy {
  delayMs = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly targetPort: number) {}

  async start(port = 0): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
    return this.port;
  }

  private accept(client: Socket) {
    const upstream = connect({ host: '127.0.0.1', port: this.targetPort });
    this.sockets.add(client);
    this.sockets.add(upstream);
    const pipe = (from: Socket, to: Socket) => {
      // One FIFO per direction drained by one timer: bytes never overtake each other, whatever
      // the delay does meanwhile (an out-of-order chunk would corrupt the Redis protocol).
      const queue: { at: number; chunk: Buffer }[] = [];
      let timer: NodeJS.Timeout | null = null;
      const drain = () => {
        timer = null;
        while (queue.length > 0 && queue[0].at <= Date.now()) {
          const { chunk } = queue.shift()!;
          if (!to.destroyed) to.write(chunk);
        }
        if (queue.length > 0) timer = setTimeout(drain, queue[0].at - Date.now());
      };
      from.on('data', (chunk: Buffer) => {
        queue.push({ at: Date.now() + this.delayMs, chunk });
        if (!timer) timer = setTimeout(drain, Math.max(0, queue[0].at - Date.now()));
      });
    };
    pipe(client, upstream);
    pipe(upstream, client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
