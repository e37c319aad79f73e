import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey } from '../../gateway/api-keys.ts';
import { IntrospectionAuthSource } from '../../gateway/introspection-auth-source.ts';
import { jsonInit, KEYS, startHarness } from './support/harness.ts';

const CLIENT = 'spillway-gateway:s3cret-value';

/**
 * A loopback RFC 7662 endpoint: answers per token from `tokens`, records what it was asked, and can
 * be told to fail, stall or answer off the schema.
 */
class FakeIntrospection {
  readonly calls: {
    token: string | null;
    hint: string | null;
    authorization: string | null;
    type: string | null;
  }[] = [];
  behaviour: 'ok' | 'error' | 'stall' | 'garbage' = 'ok';
  private server!: Server;

  constructor(private readonly tokens: Record<string, Record<string, unknown>>) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/oauth2/introspect`;
  }

  private async answer(req: IncomingMessage, res: import('node:http').ServerResponse) {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const form = new URLSearchParams(raw);
    this.calls.push({
      token: form.get('token'),
      hint: form.get('token_type_hint'),
      authorization: req.headers.authorization ?? null,
      type: req.headers['content-type'] ?? null,
    });
    if (this.behaviour === 'stall') return; // never answers
    if (this.behaviour === 'error') {
      res.writeHead(500).end('boom');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    if (this.behaviour === 'garbage') return void res.end('{"active":"yes"}');
    res.end(JSON.stringify(this.tokens[form.get('token') ?? ''] ?? { active: false }));
  }

  close() {
    this.server.closeAllConnections();
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

const credential = (token: string) => ({ token, hash: hashKey(token) });

describe('RFC 7662 introspection auth source', () => {
  const fake = new FakeIntrospection({
    'ext-pro-token': { active: true, sub: 'user-42', tier: 'pro', lane: 'chat', exp: 4_102_444_800 },
    'ext-bare-token': { active: true, client_id: 'partner-app', scope: 'images' },
    'ext-expired-token': { active: true, sub: 'user-7', exp: 1_000_000_000 },
    'acct_pro-token': { active: true, sub: 'acct_pro' },
  });
  let url: string;
  beforeAll(async () => {
    url = await fake.start();
  });
  afterAll(() => fake.close());

  it('posts the token form-encoded with the client credentials and maps an active answer to an account', async () => {
    const source = new IntrospectionAuthSource({
      url,
      clientCredentials: CLIENT,
      timeoutMs: 1000,
      maxPending: 8,
    });
    try {
      const account = await source.lookup(credential('ext-pro-token'));
      expect(account).toMatchObject({
        id: 'ext_user-42',
        tier: 'pro',
        lane: 'chat',
        source: 'introspection',
      });
      expect(fake.calls.at(-1)).toEqual({
        token: 'ext-pro-token',
        hint: 'access_token',
        authorization: `Basic ${Buffer.from(CLIENT).toString('base64')}`,
        type: 'application/x-www-form-urlencoded',
      });
      // No tier or lane named: the least tier, never a paid one by accident.
      expect(await source.lookup(credential('ext-bare-token'))).toMatchObject({
        id: 'ext_partner-app',
        tier: 'free',
        lane: 'api',
      });
      // An external subject never takes a local account's id.
      expect((await source.lookup(credential('acct_pro-token')))?.id).toBe('ext_acct_pro');
    } finally {
      await source.close();
    }
  });

  it('answers null for an inactive, unknown or expired token', async () => {
    const source = new IntrospectionAuthSource({ url, timeoutMs: 1000, maxPending: 8 });
    try {
      expect(await source.lookup(credential('nobody-knows-this'))).toBeNull();
      expect(await source.lookup(credential('ext-expired-token'))).toBeNull();
      expect(fake.calls.at(-1)?.authorization).toBeNull();
    } finally {
      await source.close();
    }
  });

  it('fails with a code on a 5xx, an answer off the schema, or an endpoint that does not answer in time', async () => {
    const source = new IntrospectionAuthSource({ url, timeoutMs: 150, maxPending: 8 });
    try {
      fake.behaviour = 'error';
      await expect(source.lookup(credential('ext-pro-token'))).rejects.toMatchObject({
        code: 'introspection_failed',
      });
      fake.behaviour = 'garbage';
      await expect(source.lookup(credential('ext-pro-token'))).rejects.toMatchObject({
        code: 'introspection_invalid',
      });
      // The endpoint never answers: the call's own bound ends it.
      fake.behaviour = 'stall';
      await expect(source.lookup(credential('ext-pro-token'))).rejects.toMatchObject({
        code: 'introspection_timeout',
      });
    } finally {
      fake.behaviour = 'ok';
      await source.close();
    }
  });

  it('fails at once past its bound on calls in flight, and takes calls again once they end', async () => {
    const source = new IntrospectionAuthSource({ url, timeoutMs: 1500, maxPending: 3 });
    try {
      fake.behaviour = 'stall';
      let settled = 0;
      const stalled = [1, 2, 3].map((i) =>
        source
          .lookup(credential(`made-up-${i}`))
          .catch((e) => e.code)
          .finally(() => settled++),
      );
      await expect(source.lookup(credential('made-up-4'))).rejects.toMatchObject({
        code: 'introspection_overloaded',
      });
      // Refused at once: none of the stalled calls had ended (they time out after 1.5 s).
      expect(settled).toBe(0);
      expect(await Promise.all(stalled)).toEqual([
        'introspection_timeout',
        'introspection_timeout',
        'introspection_timeout',
      ]);
      fake.behaviour = 'ok';
      expect((await source.lookup(credential('ext-pro-token')))?.id).toBe('ext_user-42');
    } finally {
      fake.behaviour = 'ok';
      await source.close();
    }
  });

  it('behind the gateway: external tokens are admitted, cached, refused when inactive, and a dead endpoint is a 503', async () => {
    const h = await startHarness({
      env: {
        SPILLWAY_AUTH_INTROSPECTION_URL: url,
        SPILLWAY_AUTH_INTROSPECTION_CLIENT: CLIENT,
        SPILLWAY_AUTH_INTROSPECTION_TIMEOUT_MS: '200',
        SPILLWAY_AUTH_INTROSPECTION_MAX_PENDING: '4',
      },
    });
    try {
      const body = { prompt: 'a lighthouse', size: '256x256' };
      const asked = fake.calls.length;
      const first = await h.request('/v1/images/generations', {
        ...jsonInit(body, 'ext-pro-token', { prefer: 'respond-async' }),
      });
      expect(first.status).toBe(202);
      const job = (await first.json()) as { id: string };
      const again = await h.request('/v1/images/generations', {
        ...jsonInit(body, 'ext-pro-token', { prefer: 'respond-async' }),
      });
      expect(again.status).toBe(202);
      // One call for both requests: the auth cache answered the second.
      expect(fake.calls.length - asked).toBe(1);
      const record = await h.infra.jobs.get(job.id);
      expect(record).toMatchObject({ account: 'ext_user-42', tier: 'pro', lane: 'chat' });
      // Keys provisioned here still work and never reach the endpoint.
      const local = await h.request(
        '/v1/images/generations',
        jsonInit(body, KEYS.pro, { prefer: 'respond-async' }),
      );
      expect(local.status).toBe(202);
      expect(fake.calls.length - asked).toBe(1);

      const inactive = await h.request('/v1/images/generations', jsonInit(body, 'revoked-or-made-up'));
      expect(inactive.status).toBe(401);
      expect(((await inactive.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');

      fake.behaviour = 'stall';
      const published = await h.published();
      const down = await h.request('/v1/images/generations', jsonInit(body, 'ext-bare-token'));
      expect(down.status).toBe(503);
      expect(down.headers.get('retry-after')).not.toBeNull();
      expect(((await down.json()) as { error: { code: string } }).error.code).toBe('auth_unavailable');
      expect(await h.published()).toBe(published);
    } finally {
      fake.behaviour = 'ok';
      await h.close();
    }
  });
});
