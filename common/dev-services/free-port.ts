import { createServer } from 'node:net';

const MAX_TRIES = 50;

/**
 * Hands out ports the OS calls free, never one it handed out before: the OS may give a port closed
 * a moment ago to the next bind(0), and two calls in a row once returned one port for Kafka's
 * broker and controller listeners (the broker then refused to start).
 */
export class PortAllocator {
  private readonly handedOut = new Set<number>();

  constructor(private readonly osPort: () => Promise<number> = portFromOs) {}

  async next(): Promise<number> {
    for (let i = 0; i < MAX_TRIES; i++) {
      const port = await this.osPort();
      if (this.handedOut.has(port)) continue;
      this.handedOut.add(port);
      return port;
    }
    throw new Error(`no port this process has not used yet after ${MAX_TRIES} tries`);
  }
}

const processPorts = new PortAllocator();

/** A TCP port on 127.0.0.1 that was free a moment ago and that no earlier call of this process returned. */
export function freePort(): Promise<number> {
  return processPorts.next();
}

function portFromOs(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}
