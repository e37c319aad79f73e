import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Gateway } from './service.ts';

export interface ServeOptions {
  port: number;
  host: string;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** How long close() lets in-flight requests finish before held ones are told to come back. */
  drainMs?: number;
}

/**
 * Runs the gateway on @hono/node-server. close() drains: stop accepting, let in-flight requests
 * finish for `drainMs`, then release held requests (they answer with a retry hint, their jobs
 * continue), then drop what is left.
 */
export async function serveGateway(
  gateway: Gateway,
  options: ServeOptions,
): Promise<{ port: number; close(): Promise<void> }> {
  let inflight = 0;
  let idle: (() => void) | null = null;
  const done = () => {
    inflight--;
    if (inflight === 0) idle?.();
  };
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve(
      {
        // Not an async function: one .then on the app's promise instead of an async frame and an
        // await per request (the shed path answers thousands a second).
        fetch: (req, env) => {
          inflight++;
          let res: Response | Promise<Response>;
          try {
            res = gateway.fetch(req, env);
          } catch (err) {
            done();
            throw err;
          }
          if (!(res instanceof Promise)) {
            done();
            return res;
          }
          return res.then(
            (r) => {
              done();
              return r;
            },
            (err) => {
              done();
              throw err;
            },
          );
        },
        port: options.port,
        hostname: options.host,
        serverOptions: {
          headersTimeout: options.headersTimeoutMs,
          requestTimeout: options.requestTimeoutMs,
          // Node checks both timeouts only every connectionsCheckingInterval (30 s by default), so
          // a slowloris socket would outlive a 1 s headersTimeout by up to 30 s.
          connectionsCheckingInterval: Math.max(100, Math.min(1000, options.headersTimeoutMs / 2)),
          keepAliveTimeout: 5000,
        },
      },
      () => resolve(s as Server),
    ) as Server;
    s.once('error', reject);
  });
  const port = (server.address() as AddressInfo).port;

  const waitIdle = (ms: number) =>
    new Promise<void>((resolve) => {
      if (inflight === 0 && gateway.held() === 0) return resolve();
      const timer = setTimeout(resolve, ms);
      idle = () => {
        if (gateway.held() > 0) return;
        clearTimeout(timer);
        resolve();
      };
    });

  return {
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await waitIdle(options.drainMs ?? 5000);
      gateway.releaseHeld();
      await waitIdle(1000);
      // A request counts as done when the app's promise settles; the adapter writes its answer on
      // the turns after. Let those answers go out, close the connections idle by then, and cut
      // only what is still left shortly after.
      await new Promise((resolve) => setImmediate(resolve));
      server.closeIdleConnections();
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 100))]);
      server.closeAllConnections();
      await closed;
      await gateway.close();
    },
  };
}
