import { timingSafeEqual } from 'node:crypto';
import type { Context, Hono } from 'hono';
import type { Account } from '../common/contracts/index.ts';
import { ApiError, invalidParam } from './api-error.ts';
import { accountTag, hashKey, newAccountId, newApiKey } from './api-keys.ts';
import { type GatewayContext, peerAddress } from './gateway-context.ts';
import { AdminKeyRequest, zodToApiError } from './openai-schemas.ts';
import { jitteredHintMs, MAX_HINT_MS, retryHeaders } from './retry-hints.ts';
import type { SignupLimits } from './signup-limits.ts';

function isAdmin(g: GatewayContext, c: Context): boolean {
  if (!g.adminToken) return false;
  const m = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
  if (!m) return false;
  const want = Buffer.from(g.adminToken);
  const got = Buffer.from(m[1]);
  return want.length === got.length && timingSafeEqual(want, got);
}

function requireAdmin(g: GatewayContext, c: Context) {
  // Without SPILLWAY_ADMIN_TOKEN the admin API does not exist.
  if (!g.adminToken) throw new ApiError(404, 'not_found', `Invalid URL (${c.req.method} ${c.req.path})`);
  if (!isAdmin(g, c)) {
    throw new ApiError(401, 'invalid_admin_token', 'Incorrect admin token.', null, {
      'x-should-retry': 'false',
    });
  }
}

export function accountRoutes(app: Hono, g: GatewayContext, signups: SignupLimits): void {
  app.post('/v1/signup', async (c) => {
    const policy = g.policy().policy;
    const client = g.clients.resolve(peerAddress(c), c.req.header('x-forwarded-for') ?? null);
    const global = g.admission.current(Date.now()).signup;
    const [perClient, globalTokens] = await Promise.all([
      signups.consume(client, policy.signup.perClient),
      global.rate === null
        ? null
        : g.infra.coord.takeTokens('signup', 1, global.rate, Math.max(1, global.burst), Date.now()),
    ]);
    const refused = !perClient.ok ? perClient : globalTokens && !globalTokens.ok ? globalTokens : null;
    if (refused) {
      const hint = jitteredHintMs(Math.min(MAX_HINT_MS, refused.waitMs), Math.random());
      g.refusalLog((dropped) =>
        g.log.info({ reason: perClient.ok ? 'signup_global' : 'signup_client', dropped }, 'signup refused'),
      );
      throw new ApiError(
        429,
        'signup_rate_limited',
        'Too many sign-ups right now. Please retry later.',
        null,
        retryHeaders(hint, null),
      );
    }
    const tier = policy.signup.tier;
    const lane = policy.signup.lane;
    const account: Account = {
      id: newAccountId(),
      tier,
      lane,
      createdAt: Date.now(),
      source: 'signup',
      disabled: false,
    };
    const key = newApiKey();
    await g.infra.accounts.put(hashKey(key), account);
    g.counters.signups++;
    g.log.info({ account: accountTag(account.id), tier, lane }, 'signed up');
    return c.json({ api_key: key, account: { id: account.id, tier, lane } }, 201);
  });

  app.post('/admin/keys', async (c) => {
    requireAdmin(g, c);
    const policy = g.policy().policy;
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ApiError(400, 'invalid_json', 'The body must be JSON.');
    }
    const parsed = AdminKeyRequest.safeParse(body);
    if (!parsed.success) throw zodToApiError(parsed.error, body);
    const { tier, lane } = parsed.data;
    if (!policy.tiers[tier]) throw invalidParam('tier', `Unknown tier '${tier}'.`);
    if (!policy.lanes[lane]) throw invalidParam('lane', `Unknown lane '${lane}'.`);
    const key = newApiKey();
    const keyId = hashKey(key);
    const account: Account = {
      id: parsed.data.account ?? newAccountId(),
      tier,
      lane,
      createdAt: Date.now(),
      source: 'admin',
      disabled: false,
    };
    await g.infra.accounts.put(keyId, account);
    return c.json({ key, key_id: keyId, account: { id: account.id, tier, lane } }, 201);
  });

  app.delete('/admin/keys/:keyId', async (c) => {
    requireAdmin(g, c);
    const keyId = c.req.param('keyId');
    if (!(await g.infra.accounts.revoke(keyId))) {
      throw new ApiError(404, 'key_not_found', 'No such key.', 'key_id');
    }
    g.auth.forget(keyId);
    return c.body(null, 204);
  });
}
