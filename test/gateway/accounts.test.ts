import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Account } from '../../common/contracts/index.ts';
import { MemoryAccountStore } from '../../common/store/memory-account-store.ts';
import { loadAccountsFile } from '../../gateway/accounts-file.ts';
import { hashKey } from '../../gateway/api-keys.ts';
import { AuthClient } from '../../gateway/auth-client.ts';
import { ClientAddress } from '../../gateway/client-address.ts';
import { jsonInit, KEYS, startHarness, testPolicy } from './support/harness.ts';

const ADMIN = 'admin-token-0123456789abcdef';
const acct: Account = { id: 'a1', tier: 'pro', lane: 'chat', createdAt: 0, source: 'admin', disabled: false };
/** A credential whose hash is `hash` (the client caches by hash only). */
const key = (hash: string) => ({ token: `token-of-${hash}`, hash });

describe('auth client', () => {
  it('caches hits and misses, shares concurrent look-ups, and serves stale entries while the source fails', async () => {
    let calls = 0;
    let failing = false;
    const source = {
      lookup: async ({ hash: h }: { hash: string }) => {
        calls++;
        await new Promise((r) => setTimeout(r, 5));
        if (failing) throw new Error('store down');
        return h === 'good' ? acct : null;
      },
    };
    const auth = new AuthClient(source, { ttlMs: 1000, negativeTtlMs: 1000, maxEntries: 10 });
    const now = Date.now();
    const all = await Promise.all([
      auth.resolve(key('good'), now),
      auth.resolve(key('good'), now),
      auth.resolve(key('good'), now),
    ]);
    expect(all.every((a) => a?.id === 'a1')).toBe(true);
    expect(calls).toBe(1);
    expect(await auth.resolve(key('bad'), now)).toBeNull();
    expect(await auth.resolve(key('bad'), now)).toBeNull();
    expect(calls).toBe(2);
    failing = true;
    expect((await auth.resolve(key('good'), now + 5000))?.id).toBe('a1');
    await expect(auth.resolve(key('never-seen'), now)).rejects.toThrow('store down');
    const stats = auth.drainStats();
    expect(stats.errors).toBe(2);
    expect(stats.hits).toBe(1);
  });
});

describe('auth client and credentials with an end', () => {
  it('serves a credential from cache only until its end, and never as a stale answer after it', async () => {
    let calls = 0;
    let failing = false;
    const ends = Date.now() + 10_000;
    const source = {
      lookup: async () => {
        calls++;
        if (failing) throw new Error('introspection down');
        return { ...acct, credentialExpiresAt: ends };
      },
    };
    const auth = new AuthClient(source, { ttlMs: 60_000, negativeTtlMs: 1000, maxEntries: 10 });
    const now = Date.now();
    expect((await auth.resolve(key('tok'), now))?.id).toBe('a1');
    expect((await auth.resolve(key('tok'), ends - 1))?.id).toBe('a1');
    expect(calls).toBe(1);
    // Past its end the cache asks again, though its ttl (60 s) has not run out.
    await auth.resolve(key('tok'), ends + 1);
    expect(calls).toBe(2);

    // A stale entry stands in for a failing source, but not once its credential has ended.
    const shortLived = new AuthClient(
      {
        lookup: async () => {
          if (failing) throw new Error('introspection down');
          return { ...acct, credentialExpiresAt: Date.now() + 1000 };
        },
      },
      { ttlMs: 1, negativeTtlMs: 1000, maxEntries: 10 },
    );
    failing = false;
    await shortLived.resolve(key('tok'), Date.now());
    failing = true;
    await new Promise((r) => setTimeout(r, 5));
    expect((await shortLived.resolve(key('tok'), Date.now()))?.id).toBe('a1');
    await new Promise((r) => setTimeout(r, 1100));
    await expect(shortLived.resolve(key('tok'), Date.now())).rejects.toThrow('introspection down');
  });
});

describe('client address', () => {
  it('trusts X-Forwarded-For only from configured proxies', () => {
    const c = new ClientAddress('10.0.0.0/8, ::1');
    expect(c.resolve('203.0.113.9', '1.2.3.4')).toBe('203.0.113.9');
    expect(c.resolve('::ffff:10.1.2.3', '1.2.3.4, 10.0.0.7')).toBe('1.2.3.4');
    expect(new ClientAddress('').resolve('10.1.2.3', '1.2.3.4')).toBe('10.1.2.3');
  });
});

describe('accounts file', () => {
  it('rejects unknown tiers and lanes, naming the entry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-acc-'));
    const file = join(dir, 'a.yaml');
    await writeFile(file, '- { key: sk-abcdefgh1, tier: gold, lane: chat }\n');
    const policy = (await testPolicy()).policy;
    await expect(loadAccountsFile(file, policy, new MemoryAccountStore())).rejects.toThrow(
      /entry 0: unknown tier "gold"/,
    );
    await writeFile(file, '- { key: sk-abcdefgh1, tier: pro, lane: moon }\n');
    await expect(loadAccountsFile(file, policy, new MemoryAccountStore())).rejects.toThrow(
      /unknown lane "moon"/,
    );
  });

  it('names every problem at its line, stores nothing from a bad file and never quotes a key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-acc-'));
    const file = join(dir, 'a.yaml');
    await writeFile(
      file,
      [
        '- { key: sk-secret-one-1, tier: pro, lane: chat }',
        '- { key: sk-secret-two-2, tier: gold, lane: chat }',
        '- key: sk-secret-one-1',
        '  tier: free',
        '  lane: moon',
        '',
      ].join('\n'),
    );
    const store = new MemoryAccountStore();
    const err = await loadAccountsFile(file, (await testPolicy()).policy, store).catch((e) => e);
    expect(err.code).toBe('config_invalid');
    expect(err.message.split('\n')).toEqual([
      `SPILLWAY_ACCOUNTS_FILE: ${file}:2:33: entry/tier: entry 1: unknown tier "gold" (pro, plus, free)`,
      `${file}:3:8: entry/key: entry 2: the key of entry 0 again: each key once`,
      `${file}:5:9: entry/lane: entry 2: unknown lane "moon" (chat, api)`,
    ]);
    expect(err.message).not.toContain('sk-secret');
    expect(await store.byKeyHash(hashKey('sk-secret-one-1'))).toBeNull();
  });

  it('points YAML and schema mistakes at their line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'spillway-acc-'));
    const file = join(dir, 'a.yaml');
    const policy = (await testPolicy()).policy;
    await writeFile(file, '- { key: sk-abcdefgh1, tier: pro, lane: chat\n');
    await expect(loadAccountsFile(file, policy, new MemoryAccountStore())).rejects.toThrow(
      new RegExp(`${file}:2:1: yaml: `),
    );
    await writeFile(file, '- { key: sk-abcdefgh1, tier: pro, lane: chat }\n- { key: short, tier: pro }\n');
    const err = await loadAccountsFile(file, policy, new MemoryAccountStore()).catch((e) => e);
    expect(err.message).toMatch(new RegExp(`${file}:2:10: schema/too_small: `));
    expect(err.message).toContain(
      `${file}:2:3: schema/invalid_type: Invalid input: missing (expected string)`,
    );
  });
});

describe('admin API and signup', () => {
  it('creates and revokes keys behind the admin token', async () => {
    const h = await startHarness({ env: { SPILLWAY_ADMIN_TOKEN: ADMIN } });
    try {
      const denied = await h.request('/admin/keys', jsonInit({ tier: 'plus', lane: 'api' }, 'wrong-token'));
      expect(denied.status).toBe(401);
      const badTier = await h.request('/admin/keys', jsonInit({ tier: 'gold', lane: 'api' }, ADMIN));
      expect(badTier.status).toBe(400);
      expect((await badTier.json()).error.param).toBe('tier');
      const created = await h.request('/admin/keys', jsonInit({ tier: 'plus', lane: 'api' }, ADMIN));
      expect(created.status).toBe(201);
      const { key, key_id } = await created.json();
      const ok = await h.request(
        '/v1/images/generations',
        jsonInit({ prompt: 'x' }, key, { prefer: 'respond-async' }),
      );
      expect(ok.status).toBe(202);
      expect((await h.request(`/admin/keys/${key_id}`, { method: 'DELETE', key: ADMIN })).status).toBe(204);
      const revoked = await h.request(
        '/v1/images/generations',
        jsonInit({ prompt: 'x' }, key, { prefer: 'respond-async' }),
      );
      expect(revoked.status).toBe(401);
    } finally {
      await h.close();
    }
    const noAdmin = await startHarness();
    try {
      expect(
        (await noAdmin.request('/admin/keys', jsonInit({ tier: 'plus', lane: 'api' }, ADMIN))).status,
      ).toBe(404);
    } finally {
      await noAdmin.close();
    }
  });

  it('signs up free accounts, limited per client address and globally', async () => {
    const h = await startHarness({ policy: { signup: { perClient: '2/h' } } });
    try {
      const first = await h.request('/v1/signup', { method: 'POST' });
      expect(first.status).toBe(201);
      const { api_key, account } = await first.json();
      expect(account).toMatchObject({ tier: 'free', lane: 'chat' });
      expect(
        (
          await h.request(
            '/v1/images/generations',
            jsonInit({ prompt: 'x' }, api_key, { prefer: 'respond-async' }),
          )
        ).status,
      ).toBe(202);
      expect((await h.request('/v1/signup', { method: 'POST' })).status).toBe(201);
      const third = await h.request('/v1/signup', { method: 'POST' });
      expect(third.status).toBe(429);
      expect(Number(third.headers.get('retry-after-ms'))).toBeLessThanOrEqual(60_000);
    } finally {
      await h.close();
    }
    const g = await startHarness({ admission: {} });
    try {
      const state = await g.infra.coord.readAdmission();
      await g.infra.coord.publishAdmission({ ...state!, version: 9, signup: { rate: 0.001, burst: 1 } });
      await g.gateway.refreshAdmission();
      expect((await g.request('/v1/signup', { method: 'POST' })).status).toBe(201);
      expect((await g.request('/v1/signup', { method: 'POST' })).status).toBe(429);
    } finally {
      await g.close();
    }
  });
});

describe('surface', () => {
  it('serves openapi, health, readiness, metrics and reports the gateway signal', async () => {
    const h = await startHarness({ worker: true });
    try {
      const doc = await (await h.request('/openapi.json')).json();
      expect(doc.paths['/v1/images/generations'].post).toBeTruthy();
      expect(
        JSON.stringify(doc.components.schemas.ImageGenerationRequest.properties.partial_images),
      ).toContain('"maximum":3');
      expect(doc.components.schemas.ImageGenerationRequest.required).toEqual(['prompt']);
      expect((await h.request('/healthz')).status).toBe(200);
      expect((await h.request('/readyz')).status).toBe(200);
      await h.request('/v1/images/generations', jsonInit({ prompt: 'x' }, KEYS.pro));
      const metrics = await (await h.request('/metrics')).text();
      expect(metrics).toMatch(/spillway_gateway_admission_total\{lane="chat",tier="pro",outcome="admitted"/);
      expect(metrics).toContain('spillway_gateway_auth_lookups_total');
      // Named families only (what the load-test sampler asks for): nothing else is collected.
      const some = await (
        await h.request('/metrics?name[]=spillway_gateway_auth_lookups_total&name[]=no_such_metric')
      ).text();
      expect(some).toContain('spillway_gateway_auth_lookups_total');
      expect(some).not.toContain('spillway_gateway_admission_total');
      expect(some).not.toContain('no_such_metric');
      // Counters are in cost units, the unit workers report as costFinished: 2 × 512² = 0.5.
      await h.request('/v1/images/generations', jsonInit({ prompt: 'y', size: '512x512', n: 2 }, KEYS.pro));
      await new Promise((r) => setTimeout(r, 250));
      const signals = await h.infra.coord.readSignals();
      const mine = signals.find((s) => s.source === 'gateway');
      expect(mine?.source === 'gateway' && mine.admitted['chat/pro']).toBeCloseTo(1.5);
      h.infra.queue.healthy = async () => false;
      const notReady = await h.request('/readyz');
      expect(notReady.status).toBe(503);
      expect((await notReady.json()).error.code).toBe('not_ready');
    } finally {
      await h.close();
    }
  });

  it('bounds held sync connections per account', async () => {
    const h = await startHarness({ worker: true, policy: { tiers: { free: { maxConnections: 1 } } } });
    try {
      h.worker!.pause();
      const held = h.request('/v1/images/generations', jsonInit({ prompt: 'x' }, KEYS.free));
      await new Promise((r) => setTimeout(r, 50));
      const second = await h.request('/v1/images/generations', jsonInit({ prompt: 'y' }, KEYS.free));
      expect(second.status).toBe(429);
      expect((await second.json()).error.code).toBe('too_many_connections');
      h.worker!.resume();
      expect((await held).status).toBe(200);
    } finally {
      await h.close();
    }
  });
});
