import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCH_REQUEST, bareRefusalApp } from '../../gateway/bench-server.ts';
import { type Harness, KEYS, startHarness } from './support/harness.ts';

/** Everything on the wire but the values that change per response. */
async function shape(res: Response) {
  const names: string[] = [];
  res.headers.forEach((_, name) => {
    names.push(name);
  });
  names.sort();
  const body = (await res.json()) as { error: Record<string, unknown> };
  return { status: res.status, names, error: { ...body.error, message: typeof body.error.message } };
}

describe('the bench server’s bare 429', () => {
  let h: Harness;
  let bare: ReturnType<typeof serve>;
  let bareUrl: string;

  beforeAll(async () => {
    h = await startHarness({ serve: true, admission: { free: { mode: 'shed' } } });
    bare = serve({
      fetch: (await bareRefusalApp(h.gateway, KEYS.free)).fetch,
      port: 0,
      hostname: '127.0.0.1',
    });
    await new Promise<void>((resolve) => bare.once('listening', () => resolve()));
    bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => bare.close(resolve));
    await h.close();
  });

  it('sends what the gateway sends a shed request: status, every header, the error envelope', async () => {
    const init = {
      method: 'POST',
      headers: { ...BENCH_REQUEST.headers, authorization: `Bearer ${KEYS.free}` },
      body: BENCH_REQUEST.body,
    };
    const fromGateway = await shape(await fetch(h.url + BENCH_REQUEST.path, init));
    const fromBare = await shape(await fetch(bareUrl + BENCH_REQUEST.path, init));
    expect(fromGateway.status).toBe(429);
    expect(fromGateway.names).toEqual(expect.arrayContaining(['retry-after', 'traceparent']));
    expect(fromBare).toEqual(fromGateway);
  });

  it('refuses to stand in when the key it is given is not shed', async () => {
    await expect(bareRefusalApp(h.gateway, KEYS.pro)).rejects.toThrow(/not 429/);
  });
});
