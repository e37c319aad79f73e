import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/until.ts';
import { type Harness, jsonInit, KEYS, startHarness } from './support/harness.ts';

// Every refusal: status, OpenAI envelope (type, code, param), and nothing enqueued or ticketed.

async function expectRefusal(
  h: Harness,
  res: Response,
  want: { status: number; type?: string; code: string | null; param?: string | null },
) {
  expect(res.status).toBe(want.status);
  expect(res.headers.get('content-type')).toContain('application/json');
  const body = await res.json();
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error.code).toBe(want.code);
  if (want.type) expect(body.error.type).toBe(want.type);
  if (want.param !== undefined) expect(body.error.param).toBe(want.param);
  expect(typeof body.error.message).toBe('string');
  expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
  expect(await h.published()).toBe(0);
  expect(await h.tickets()).toBe(0);
  return body;
}

const gen = (body: unknown, key = KEYS.pro, headers: Record<string, string> = {}) =>
  jsonInit(body, key, headers);

describe('refusals', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      policy: {
        limits: { maxBodyBytes: 4096, maxPromptChars: 100, maxImageDimension: 64 },
        rollout: [{ feature: 'generate', tier: 'plus', enabled: false }],
      },
      extraRoutes: (app) =>
        app.get('/boom', () => {
          throw new Error('secret internal detail');
        }),
    });
  });
  afterAll(() => h.close());

  const invalid: [string, unknown, string, string | null][] = [
    ['missing prompt', {}, 'missing_required_parameter', 'prompt'],
    ['empty prompt', { prompt: '' }, 'invalid_value', 'prompt'],
    ['prompt too long', { prompt: 'x'.repeat(101) }, 'string_above_max_length', 'prompt'],
    ['n = 0', { prompt: 'x', n: 0 }, 'invalid_value', 'n'],
    ['n = 11', { prompt: 'x', n: 11 }, 'invalid_value', 'n'],
    ['n not an integer', { prompt: 'x', n: 1.5 }, 'invalid_value', 'n'],
    ['bad size', { prompt: 'x', size: '999x999' }, 'invalid_value', 'size'],
    ['bad quality', { prompt: 'x', quality: 'ultra' }, 'invalid_value', 'quality'],
    ['bad response_format', { prompt: 'x', response_format: 'gif' }, 'invalid_value', 'response_format'],
    ['bad output_format', { prompt: 'x', output_format: 'gif' }, 'invalid_value', 'output_format'],
    [
      'partial_images = 4',
      { prompt: 'x', stream: true, partial_images: 4 },
      'invalid_value',
      'partial_images',
    ],
    [
      'output_compression 101',
      { prompt: 'x', output_compression: 101 },
      'invalid_value',
      'output_compression',
    ],
    ['stream not boolean', { prompt: 'x', stream: 'yes' }, 'invalid_value', 'stream'],
    ['unknown parameter', { prompt: 'x', colour: 'red' }, 'unknown_parameter', 'colour'],
    [
      'transparent jpeg',
      { prompt: 'x', background: 'transparent', output_format: 'jpeg' },
      'invalid_value',
      'background',
    ],
  ];
  for (const [name, body, code, param] of invalid) {
    it(`400 for ${name}`, async () => {
      await expectRefusal(h, await h.request('/v1/images/generations', gen(body)), {
        status: 400,
        type: 'invalid_request_error',
        code,
        param,
      });
    });
  }

  it('404 model_not_found for an unknown model', async () => {
    await expectRefusal(h, await h.request('/v1/images/generations', gen({ prompt: 'x', model: 'nope' })), {
      status: 404,
      code: 'model_not_found',
      param: 'model',
    });
  });

  it('400 for bad JSON, 415 for a wrong content type, 413 for an oversize body', async () => {
    await expectRefusal(
      h,
      await h.request('/v1/images/generations', {
        method: 'POST',
        key: KEYS.pro,
        body: '{nope',
        headers: { 'content-type': 'application/json' },
      }),
      { status: 400, code: 'invalid_json' },
    );
    await expectRefusal(
      h,
      await h.request('/v1/images/generations', {
        method: 'POST',
        key: KEYS.pro,
        body: 'prompt=x',
        headers: { 'content-type': 'text/plain' },
      }),
      { status: 415, code: 'unsupported_media_type' },
    );
    const big = await h.request('/v1/images/generations', gen({ prompt: 'x'.repeat(5000) }));
    await expectRefusal(h, big, { status: 413, code: 'request_too_large' });
    // A chunked body without Content-Length is cut off at the bound too.
    const chunked = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(`{"prompt":"${'y'.repeat(8000)}"}`));
        c.close();
      },
    });
    const res = await h.request('/v1/images/generations', {
      method: 'POST',
      key: KEYS.pro,
      body: chunked,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    await expectRefusal(h, res, { status: 413, code: 'request_too_large' });
  });

  it('400 for an edit image over the dimension bound or not an image', async () => {
    const big = await sharp({ create: { width: 65, height: 10, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    const form = new FormData();
    form.set('prompt', 'x');
    form.set('image', new File([new Uint8Array(big)], 'a.png', { type: 'image/png' }));
    await expectRefusal(
      h,
      await h.request('/v1/images/edits', { method: 'POST', key: KEYS.pro, body: form }),
      { status: 400, code: 'image_too_large', param: 'image' },
    );
    const junk = new FormData();
    junk.set('prompt', 'x');
    junk.set('image', new File([new Uint8Array([1, 2, 3])], 'a.png', { type: 'image/png' }));
    await expectRefusal(
      h,
      await h.request('/v1/images/edits', { method: 'POST', key: KEYS.pro, body: junk }),
      { status: 400, code: 'invalid_image_format', param: 'image' },
    );
    const noImage = new FormData();
    noImage.set('prompt', 'x');
    noImage.set('n', 'two');
    await expectRefusal(
      h,
      await h.request('/v1/images/edits', { method: 'POST', key: KEYS.pro, body: noImage }),
      { status: 400, param: 'image', code: 'missing_required_parameter' },
    );
  });

  it('401 for a bad or missing key', async () => {
    await expectRefusal(
      h,
      await h.request('/v1/images/generations', gen({ prompt: 'x' }, 'sk-not-a-real-key-000')),
      { status: 401, code: 'invalid_api_key' },
    );
    await expectRefusal(h, await h.request('/v1/images/generations', jsonInit({ prompt: 'x' }, undefined)), {
      status: 401,
      code: 'missing_api_key',
    });
  });

  it('404 for an unknown job and for another account’s job', async () => {
    await expectRefusal(
      h,
      await h.request('/v1/images/jobs/job_AAAAAAAAAAAAAAAAAAAAAAAA', { key: KEYS.pro }),
      { status: 404, code: 'job_not_found', param: 'id' },
    );
    await expectRefusal(h, await h.request('/v1/images/jobs/not-a-job', { key: KEYS.pro }), {
      status: 404,
      code: 'job_not_found',
    });
  });

  it('403 when the rollout gate closes the tier', async () => {
    await expectRefusal(h, await h.request('/v1/images/generations', gen({ prompt: 'x' }, KEYS.plus)), {
      status: 403,
      type: 'permission_error',
      code: 'feature_not_available',
    });
  });

  it('404 envelope for unknown routes, 405 for a wrong method, 500 without detail', async () => {
    await expectRefusal(h, await h.request('/v1/nothing'), { status: 404, code: 'not_found' });
    const m = await h.request('/v1/images/generations', { method: 'GET', key: KEYS.pro });
    expect(m.headers.get('allow')).toBe('POST');
    await expectRefusal(h, m, { status: 405, code: 'method_not_allowed' });
    const boom = await h.request('/boom');
    const body = await expectRefusal(h, boom, { status: 500, type: 'server_error', code: 'internal_error' });
    expect(JSON.stringify(body)).not.toContain('secret');
  });
});

describe('limit refusals', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: { tiers: { free: { rateLimit: '6/min', burst: 2 } } } });
  });
  afterAll(() => h.close());

  it('429 with retry and rate-limit headers when the account limit is exhausted', async () => {
    const async = { prefer: 'respond-async' };
    expect((await h.request('/v1/images/generations', gen({ prompt: 'x' }, KEYS.free, async))).status).toBe(
      202,
    );
    expect((await h.request('/v1/images/generations', gen({ prompt: 'x' }, KEYS.free, async))).status).toBe(
      202,
    );
    const before = [await h.published(), await h.tickets()];
    const res = await h.request('/v1/images/generations', gen({ prompt: 'x' }, KEYS.free, async));
    expect(res.status).toBe(429);
    const body = await res.json();
    expect(body.error).toMatchObject({ type: 'rate_limit_error', code: 'rate_limit_exceeded', param: null });
    const hintMs = Number(res.headers.get('retry-after-ms'));
    expect(hintMs).toBeGreaterThan(0);
    expect(hintMs).toBeLessThanOrEqual(60_000);
    expect(Number(res.headers.get('retry-after'))).toBe(Math.ceil(hintMs / 1000));
    expect(res.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(res.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(res.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+m)?\d+(\.\d+)?s$|^\d+ms$/);
    expect([await h.published(), await h.tickets()]).toEqual(before);
    // Another account of the same tier is not affected.
    expect((await h.request('/v1/images/generations', gen({ prompt: 'x' }, KEYS.free2, async))).status).toBe(
      202,
    );
  });

  it('sheds, refuses edits and sync requests as the admission state says, touching nothing', async () => {
    const before = [await h.published(), await h.tickets()];
    await h.setAdmission({ pro: { mode: 'shed' } });
    const shed = await h.request('/v1/images/generations', gen({ prompt: 'x' }, KEYS.pro));
    expect(shed.status).toBe(429);
    expect((await shed.json()).error.code).toBe('capacity_exceeded');

    await h.setAdmission({ pro: { mode: 'async-only' } });
    const sync = await h.request('/v1/images/generations', gen({ prompt: 'x' }, KEYS.pro));
    expect(sync.status).toBe(429);
    expect((await sync.json()).error.code).toBe('sync_unavailable');
    const retry = await h.request(
      '/v1/images/generations',
      gen({ prompt: 'x' }, KEYS.pro, { prefer: 'respond-async', 'x-stainless-retry-count': '1' }),
    );
    expect(retry.status).toBe(429);

    await h.setAdmission({ pro: { edits: false } });
    const form = new FormData();
    form.set('prompt', 'x');
    form.set(
      'image',
      new File(
        [
          new Uint8Array(
            await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } })
              .png()
              .toBuffer(),
          ),
        ],
        'a.png',
        { type: 'image/png' },
      ),
    );
    const edit = await h.request('/v1/images/edits', { method: 'POST', key: KEYS.pro, body: form });
    expect(edit.status).toBe(429);
    expect((await edit.json()).error.code).toBe('edits_unavailable');

    await h.setAdmission({ pro: { rate: 1, burst: 1 } });
    const big = await h.request(
      '/v1/images/generations',
      gen({ prompt: 'x', n: 2 }, KEYS.pro, { prefer: 'respond-async' }),
    );
    expect(big.status).toBe(429);
    expect((await big.json()).error.code).toBe('capacity_exceeded');
    expect([await h.published(), await h.tickets()]).toEqual(before);

    await h.setAdmission({ pro: { mode: 'async-only' } });
    const queued = await h.request(
      '/v1/images/generations',
      gen({ prompt: 'x' }, KEYS.pro, { prefer: 'respond-async' }),
    );
    expect(queued.status).toBe(202);
    await h.setAdmission({});
  });

  it("lets a paid request short of tokens take a lower tier's, which is then refused", async () => {
    // Buckets hold one 1024² generation each (cost 1) and barely refill.
    await h.setAdmission({ plus: { rate: 0.001, burst: 1 }, free: { rate: 0.001, burst: 1 } });
    try {
      const asyncGen = (key: string) =>
        h.request('/v1/images/generations', gen({ prompt: 'x' }, key, { prefer: 'respond-async' }));
      expect((await asyncGen(KEYS.plus)).status).toBe(202);
      // Plus's own bucket is empty: free's token admits it...
      expect((await asyncGen(KEYS.plus)).status).toBe(202);
      // ...so free is refused, and no bucket is left for a third plus request.
      const free = await asyncGen(KEYS.free2);
      expect(free.status).toBe(429);
      expect((await free.json()).error.code).toBe('capacity_exceeded');
      expect((await asyncGen(KEYS.plus)).status).toBe(429);
    } finally {
      await h.setAdmission({});
    }
  });
});

describe("a retry's headroom in its tier's bucket (policy limits.retryHeadroom)", () => {
  // Free's bucket starts full at 3 tokens and barely refills; a 1024² generation costs 1.
  const sequence = async (retryHeadroom?: number) => {
    const h = await startHarness({
      policy: {
        tiers: { free: { rateLimit: '100/s', burst: 100 } },
        ...(retryHeadroom === undefined ? {} : { limits: { retryHeadroom } }),
      },
      admission: { free: { rate: 0.001, burst: 3 } },
    });
    try {
      const send = async (retry: boolean) => {
        const res = await h.request(
          '/v1/images/generations',
          gen({ prompt: 'x' }, KEYS.free2, {
            prefer: 'respond-async',
            ...(retry ? { 'x-stainless-retry-count': '1' } : {}),
          }),
        );
        return res.status === 429 ? (await res.json()).error.code : res.status;
      };
      return [await send(false), await send(true), await send(true), await send(false)];
    } finally {
      await h.close();
    }
  };

  it('by default a retry needs twice its cost in the bucket, takes only its cost, and leaves the rest to first attempts', async () => {
    // 3 → 2 (first), 2 → 1 (the retry had its headroom of 2), then a retry finds 1 < 2 and is
    // refused, while a first attempt takes the last token.
    expect(await sequence()).toEqual([202, 202, 'capacity_exceeded', 202]);
  });

  it('at 1, retries are admitted like first attempts', async () => {
    expect(await sequence(1)).toEqual([202, 202, 202, 'capacity_exceeded']);
  });
});

describe('refusals the gateway is sure of', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ policy: { tiers: { free: { rateLimit: '100/s', burst: 100 } } } });
  });
  afterAll(() => h.close());

  it('answers a refusal it is sure of without the store, and asks again once the bucket may have refilled', async () => {
    // Free's bucket holds one 1024² generation (cost 1) and refills one every 2 s.
    await h.setAdmission({ free: { rate: 0.5, burst: 1 } });
    const takes: string[] = [];
    const take = h.infra.coord.takeTokens.bind(h.infra.coord);
    h.infra.coord.takeTokens = (bucket, ...rest) => {
      takes.push(bucket);
      return take(bucket, ...rest);
    };
    try {
      const asyncGen = () =>
        h.request('/v1/images/generations', gen({ prompt: 'x' }, KEYS.free2, { prefer: 'respond-async' }));
      expect((await asyncGen()).status).toBe(202);
      const refused = await asyncGen();
      expect(refused.status).toBe(429);
      expect(takes).toHaveLength(2);
      // The store said "not for ~2 s": the next refusals within that are the gateway's alone,
      // with the same envelope and a retry hint.
      const published = await h.published();
      const sure = await asyncGen();
      expect(sure.status).toBe(429);
      expect(Number(sure.headers.get('retry-after-ms'))).toBeGreaterThan(0);
      expect((await sure.json()).error).toMatchObject({
        type: 'rate_limit_error',
        code: 'capacity_exceeded',
      });
      expect(takes).toHaveLength(2);
      expect(await h.published()).toBe(published);
      // Once the bucket may hold a token again, the store decides.
      await new Promise((r) => setTimeout(r, 2100));
      expect((await asyncGen()).status).toBe(202);
      expect(takes).toHaveLength(3);
    } finally {
      h.infra.coord.takeTokens = take;
      await h.setAdmission({});
    }
  });
});

describe('refusals made before the body is read', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({});
  });
  afterAll(() => h.close());

  it('sheds a shed tier without reading its body, counting the typical cost as demand', async () => {
    // A priced 256² request first: the typical cost of this kind (1024² = 1 unit) is now 1/16.
    expect(
      (
        await h.request(
          '/v1/images/generations',
          gen({ prompt: 'x', size: '256x256' }, KEYS.pro, { prefer: 'respond-async' }),
        )
      ).status,
    ).toBe(202);
    await h.setAdmission({ pro: { mode: 'shed' } });
    try {
      // The gateway's own report of its counters (cost units), as the controller reads them.
      const offered = async () => {
        const mine = (await h.infra.coord.readSignals()).filter((sig) => 'offered' in sig);
        return mine.reduce(
          (a, sig) =>
            a +
            Object.values((sig as { offered: Record<string, number> }).offered).reduce((x, y) => x + y, 0),
          0,
        );
      };
      const before = await until(async () => {
        const v = await offered();
        return v >= 1 / 16 - 1e-9 && v;
      }, 5000);
      // Not JSON at all: the tier's state answers before the body would have been refused as invalid.
      const res = await h.request('/v1/images/generations', {
        method: 'POST',
        key: KEYS.pro,
        headers: { 'content-type': 'application/json' },
        body: '{not json',
      });
      expect(res.status).toBe(429);
      expect((await res.json()).error.code).toBe('capacity_exceeded');
      expect(Number(res.headers.get('retry-after-ms'))).toBeGreaterThan(0);
      const after = await until(async () => {
        const v = await offered();
        return v > before + 1e-9 && v;
      }, 5000);
      expect(after - before).toBeCloseTo(1 / 16, 6);
      // With an Idempotency-Key the body is read and the request decided as usual (here: still shed,
      // but a key that named an earlier job would get that job).
      const keyed = await h.request(
        '/v1/images/generations',
        gen({ prompt: 'x' }, KEYS.pro, { 'idempotency-key': 'k-before-body' }),
      );
      expect(keyed.status).toBe(429);
      const invalid = await h.request('/v1/images/generations', {
        method: 'POST',
        key: KEYS.pro,
        headers: { 'content-type': 'application/json', 'idempotency-key': 'k2' },
        body: '{not json',
      });
      expect(invalid.status).toBe(400);
    } finally {
      await h.setAdmission({});
    }
  });
});
