import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageUrlSigner } from '../../gateway/image-urls.ts';
import {
  ADMIN_TOKEN,
  call,
  KEYS,
  leaksInternals,
  type SecureStack,
  startSecureStack,
  URL_SIGNING_KEY,
} from './support/secure-stack.ts';

/**
 * Tenant isolation, secrets at rest and in logs, the admin API, signed image URLs and the policy
 * files, against the embedded stack over HTTP. Two accounts on the same plan differ only by owner.
 */

let stack: SecureStack;
/** Secrets that must never show up in logs, bodies of other tenants, or the store. */
const secrets = new Set<string>([KEYS.alice, KEYS.bob, KEYS.free, ADMIN_TOKEN, URL_SIGNING_KEY]);
const bodies: string[] = [];

async function req(path: string, init: Parameters<typeof call>[2] = {}) {
  const r = await call(stack, path, init);
  bodies.push(r.text);
  return r;
}

function generate(key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return req('/v1/images/generations', {
    method: 'POST',
    key,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ prompt: 'a lighthouse at dusk', size: '256x256', ...body }),
    timeoutMs: 60_000,
  });
}

function policyDigest(dir: string): string {
  const h = createHash('sha256');
  for (const f of readdirSync(dir, { recursive: true }).map(String).sort()) {
    try {
      h.update(f).update(readFileSync(join(dir, f)));
    } catch {
      h.update(f);
    }
  }
  return h.digest('hex');
}

let aliceJob: string;
let aliceUrl: URL;
let policyBefore: string;

beforeAll(async () => {
  stack = await startSecureStack();
  policyBefore = policyDigest(stack.policyDir);
  const done = await generate(KEYS.alice, { response_format: 'url' });
  expect(done.status).toBe(200);
  aliceUrl = new URL(done.json.data[0].url);
  aliceJob = aliceUrl.pathname.split('/')[4];
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

describe('tenant isolation', () => {
  it("another account's job, events, cancel and an unknown id all answer the same 404", async () => {
    const queued = await generate(KEYS.alice, {}, { prefer: 'respond-async' });
    expect(queued.status).toBe(202);
    const id = queued.json.id as string;
    const unknown = `job_${'Z'.repeat(24)}`;
    const shapes: string[] = [];
    for (const [method, path] of [
      ['GET', `/v1/images/jobs/${id}`],
      ['GET', `/v1/images/jobs/${id}/events`],
      ['DELETE', `/v1/images/jobs/${id}`],
      ['GET', `/v1/images/jobs/${unknown}`],
      ['GET', `/v1/images/jobs/${unknown}/events`],
      ['DELETE', `/v1/images/jobs/${unknown}`],
      ['GET', `/v1/images/jobs/${aliceJob}`],
    ] as const) {
      const r = await req(path, { method, key: KEYS.bob });
      expect(r.status, `${method} ${path}`).toBe(404);
      // Same code and same wording apart from the id: nothing tells "exists" from "not yours".
      shapes.push(
        JSON.stringify({ ...r.json.error, message: r.json.error.message.replace(/job_\w+/, 'ID') }),
      );
    }
    expect(new Set(shapes).size).toBe(1);
    // Bob's cancel did nothing: Alice still owns a live (or finished by the worker) job.
    const mine = await req(`/v1/images/jobs/${id}`, { key: KEYS.alice });
    expect(mine.status).toBe(200);
    expect(mine.json.status).not.toBe('cancelled');
  });

  it("the same Idempotency-Key from two accounts makes two jobs, never a replay of the other's", async () => {
    const h = { prefer: 'respond-async', 'idempotency-key': 'shared-key-1' };
    const a = await generate(KEYS.alice, {}, h);
    const b = await generate(KEYS.bob, {}, h);
    expect(a.status).toBe(202);
    expect(b.status).toBe(202);
    expect(b.json.id).not.toBe(a.json.id);
    expect((await req(`/v1/images/jobs/${a.json.id}`, { key: KEYS.bob })).status).toBe(404);
  });

  it('a completed job read by its owner gives b64 data that no other account can fetch by id', async () => {
    const done = await generate(KEYS.alice, {});
    expect(done.status).toBe(200);
    expect(done.json.data[0].b64_json.length).toBeGreaterThan(100);
    expect(done.text).not.toContain('acct_');
  });
});

describe('signed image URLs', () => {
  it('the signed URL serves the image; any altered part (sig, expiry, index, job) is a 404', async () => {
    const ok = await call(stack, aliceUrl.pathname + aliceUrl.search);
    expect(ok.status).toBe(200);
    const q = aliceUrl.searchParams;
    const sig = q.get('sig')!;
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    const altered = [
      `${aliceUrl.pathname}?expires=${q.get('expires')}&sig=${flipped}`,
      `${aliceUrl.pathname}?expires=${Number(q.get('expires')) + 1}&sig=${sig}`,
      `${aliceUrl.pathname.replace(/\/0$/, '/1')}?${q}`,
      `${aliceUrl.pathname.replace(aliceJob, `job_${'Q'.repeat(24)}`)}?${q}`,
      `${aliceUrl.pathname}?expires=${q.get('expires')}`,
      `${aliceUrl.pathname}`,
      `${aliceUrl.pathname}?expires=${q.get('expires')}&sig=${sig}x`,
    ];
    for (const path of altered) {
      const r = await req(path);
      expect(r.status, path).toBe(404);
    }
  });

  it('a correctly signed but expired URL is refused', async () => {
    const signer = new ImageUrlSigner(URL_SIGNING_KEY);
    const past = Math.floor(Date.now() / 1000) - 1;
    const r = await req(signer.path(aliceJob, 0, past));
    expect(r.status).toBe(403);
    expect(r.json.error.code).toBe('url_expired');
    // The same signer with a future expiry works: the refusal above is the expiry, not the key.
    expect((await call(stack, signer.path(aliceJob, 0, past + 3600))).status).toBe(200);
  });

  it('a URL signed with another key is a 404', async () => {
    const forger = new ImageUrlSigner('not-the-real-signing-key-000000');
    const r = await req(forger.path(aliceJob, 0, Math.floor(Date.now() / 1000) + 3600));
    expect(r.status).toBe(404);
  });
});

describe('admin API and secrets', () => {
  it('admin endpoints refuse a missing, wrong, same-length or API-key token', async () => {
    const body = JSON.stringify({ tier: 'pro', lane: 'api' });
    const wrongSameLength = `${ADMIN_TOKEN.slice(0, -1)}${ADMIN_TOKEN.endsWith('f') ? 'e' : 'f'}`;
    for (const auth of [
      null,
      'Bearer nope',
      `Bearer ${wrongSameLength}`,
      `Bearer ${KEYS.alice}`,
      ADMIN_TOKEN,
    ]) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (auth) headers.authorization = auth;
      const create = await req('/admin/keys', { method: 'POST', headers, body });
      expect(create.status, String(auth)).toBe(401);
      const revoke = await req(`/admin/keys/${'a'.repeat(64)}`, { method: 'DELETE', headers });
      expect(revoke.status, String(auth)).toBe(401);
    }
  });

  it('a key made through the admin API is stored only as its hash and works once, until revoked', async () => {
    const created = await req('/admin/keys', {
      method: 'POST',
      key: ADMIN_TOKEN,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tier: 'plus', lane: 'chat' }),
    });
    expect(created.status).toBe(201);
    const key = created.json.key as string;
    secrets.add(key);
    const hash = createHash('sha256').update(key).digest('hex');
    expect(created.json.key_id).toBe(hash);
    expect(await stack.infra.accounts.byKeyHash(key)).toBeNull();
    expect(await stack.infra.accounts.byKeyHash(hash)).toMatchObject({ tier: 'plus', lane: 'chat' });

    const first = await generate(key, {}, { prefer: 'respond-async' });
    expect(first.status).toBe(202);
    const revoke = await req(`/admin/keys/${hash}`, { method: 'DELETE', key: ADMIN_TOKEN });
    expect(revoke.status).toBe(204);
    const after = await generate(key, {}, { prefer: 'respond-async' });
    expect(after.status).toBe(401);
  });

  it('a signed-up key is stored only as its hash', async () => {
    const r = await req('/v1/signup', { method: 'POST' });
    expect(r.status).toBe(201);
    const key = r.json.api_key as string;
    secrets.add(key);
    expect(await stack.infra.accounts.byKeyHash(key)).toBeNull();
    expect(
      await stack.infra.accounts.byKeyHash(createHash('sha256').update(key).digest('hex')),
    ).not.toBeNull();
  });

  it('a bad key is refused without echoing it', async () => {
    const bad = 'sk-sec-bad-key-that-must-not-echo-000000';
    secrets.add(bad);
    const r = await req('/v1/images/generations', {
      method: 'POST',
      key: bad,
      headers: { 'content-type': 'application/json' },
      body: '{"prompt":"x"}',
    });
    expect(r.status).toBe(401);
  });
});

describe('policy files', () => {
  it('no HTTP method on any plausible path changes the policy files, even with the admin token', async () => {
    const paths = [
      '/policies',
      '/policy',
      '/admin/policy',
      '/admin/policies',
      '/v1/policy',
      '/status',
      '/status/api/state',
      '/status/policy',
      '/policies/00-default.yaml',
      '/../policies/00-default.yaml',
      '/status/assets/..%2f..%2fpolicies%2f00-default.yaml',
    ];
    for (const path of paths) {
      for (const method of ['PUT', 'POST', 'PATCH', 'DELETE']) {
        const r = await req(path, {
          method,
          key: ADMIN_TOKEN,
          headers: { 'content-type': 'application/yaml' },
          body: 'tiers: { free: { rateLimit: 100000/s } }\n',
        });
        expect(r.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
        expect(r.status, `${method} ${path}`).toBeLessThan(500);
      }
    }
    expect(policyDigest(stack.policyDir)).toBe(policyBefore);
    const state = await req('/status/api/state');
    expect(state.text).not.toContain('100000');
  });
});

describe('leaks', () => {
  it('no key, token or signing key appears in any log line or in any response body of this suite', () => {
    const logs = stack.logText();
    expect(logs.length).toBeGreaterThan(0);
    for (const s of secrets) {
      expect(logs.includes(s), `log contains ${s.slice(0, 10)}…`).toBe(false);
      for (const b of bodies) {
        // A key is echoed only to whoever created it (admin create, signup); never elsewhere.
        if (b.includes('"api_key"') || b.includes('"key_id"')) continue;
        expect(b.includes(s), `body contains ${s.slice(0, 10)}…`).toBe(false);
      }
    }
    for (const b of bodies) expect(leaksInternals(b), b.slice(0, 200)).toBe(false);
  });

  it('no key is held in clear anywhere in the in-memory stores (accounts, jobs, events, coordination)', () => {
    const infra = stack.infra as unknown as Record<string, unknown>;
    const dump = ['accounts', 'jobs', 'events', 'coord']
      .map((k) => inspect(infra[k], { depth: 12, maxArrayLength: null, maxStringLength: null }))
      .join('\n');
    expect(dump).toContain('acct_alice');
    for (const s of secrets) expect(dump.includes(s), `store holds ${s.slice(0, 10)}…`).toBe(false);
  });
});
