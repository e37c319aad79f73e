import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, KEYS, startHarness } from './support/harness.ts';

// The official SDK, unchanged, against the gateway over HTTP (memory infra + the test fake worker).

interface Sent {
  retryCount: string | null;
  at: number;
  status: number;
  retryAfterMs: string | null;
}

function client(h: Harness, key: string, log: Sent[] = [], maxRetries = 2) {
  return new OpenAI({
    apiKey: key,
    baseURL: `${h.url}/v1`,
    maxRetries,
    fetch: async (url, init) => {
      const at = performance.now();
      const res = await fetch(url, init);
      const headers = new Headers(init?.headers);
      log.push({
        retryCount: headers.get('x-stainless-retry-count'),
        at,
        status: res.status,
        retryAfterMs: res.headers.get('retry-after-ms'),
      });
      return res;
    },
  });
}

async function pngFile(name = 'in.png') {
  const data = await sharp({ create: { width: 16, height: 16, channels: 4, background: '#fff' } })
    .png()
    .toBuffer();
  return toFile(data, name, { type: 'image/png' });
}

describe('openai SDK against the gateway', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ serve: true, worker: true });
  });
  afterAll(() => h.close());

  it('generates with b64_json and echoes OpenAI fields', async () => {
    const r = await client(h, KEYS.pro).images.generate({
      prompt: 'an otter',
      size: '512x512',
      quality: 'low',
      n: 2,
    });
    expect(r.data).toHaveLength(2);
    const png = Buffer.from(r.data![0].b64_json!, 'base64');
    expect((await sharp(png).metadata()).format).toBe('png');
    expect(r.size).toBe('512x512');
    expect(r.quality).toBe('low');
    expect(r.output_format).toBe('png');
    expect(r.usage?.total_tokens).toBeGreaterThan(0);
    expect(typeof r.created).toBe('number');
  });

  it('generates with url results the gateway serves, and refuses tampered or expired urls', async () => {
    const r = await client(h, KEYS.pro).images.generate({ prompt: 'an otter', response_format: 'url' });
    const url = r.data![0].url!;
    expect(url.startsWith(h.url)).toBe(true);
    const img = await fetch(url);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/png');
    const tampered = await fetch(url.replace(/sig=./, (m) => (m.endsWith('A') ? 'sig=B' : 'sig=A')));
    expect(tampered.status).toBe(404);
    expect((await tampered.json()).error.code).toBe('not_found');
    const u = new URL(url);
    u.searchParams.set('expires', '1000');
    const forged = await fetch(u);
    expect(forged.status).toBe(404); // the signature covers the expiry
  });

  it('edits with a multipart image (single and image[])', async () => {
    const one = await client(h, KEYS.pro).images.edit({
      image: await pngFile(),
      prompt: 'add a hat',
      n: 1,
      size: '256x256',
    });
    expect(one.data).toHaveLength(1);
    expect(one.size).toBe('256x256');
    const many = await client(h, KEYS.pro).images.edit({
      image: [await pngFile('a.png'), await pngFile('b.png')],
      prompt: 'merge',
      mask: await pngFile('m.png'),
    });
    expect(many.data?.[0].b64_json).toBeTruthy();
  });

  it('streams partial images then the completed event (generation and edit)', async () => {
    const stream = await client(h, KEYS.pro).images.generate({
      prompt: 'an otter',
      stream: true,
      partial_images: 2,
    });
    const events: { type: string; partial_image_index?: number }[] = [];
    for await (const e of stream) events.push(e);
    expect(events.map((e) => e.type)).toEqual([
      'image_generation.partial_image',
      'image_generation.partial_image',
      'image_generation.completed',
    ]);
    expect(events.slice(0, 2).map((e) => e.partial_image_index)).toEqual([0, 1]);
    const done = events[2] as OpenAI.Images.ImageGenCompletedEvent;
    expect(done.usage.total_tokens).toBeGreaterThan(0);
    expect(done.b64_json.length).toBeGreaterThan(0);

    const edit = await client(h, KEYS.pro).images.edit({
      image: await pngFile(),
      prompt: 'x',
      stream: true,
      partial_images: 1,
    });
    const types: string[] = [];
    for await (const e of edit) types.push(e.type);
    expect(types).toEqual(['image_edit.partial_image', 'image_edit.completed']);
  });

  it('turns a moderation block after the stream started into an APIError', async () => {
    const stream = await client(h, KEYS.pro).images.generate({
      prompt: 'something forbidden',
      stream: true,
      partial_images: 1,
    });
    await expect(async () => {
      for await (const _ of stream) {
        /* drain */
      }
    }).rejects.toBeInstanceOf(OpenAI.APIError);
  });

  it('gets typed errors with OpenAI codes', async () => {
    const c = client(h, KEYS.pro);
    await expect(c.images.generate({ prompt: 'x', model: 'no-such-model' })).rejects.toMatchObject({
      status: 404,
      code: 'model_not_found',
      param: 'model',
      constructor: OpenAI.NotFoundError,
    });
    await expect(c.images.generate({ prompt: 'x', size: '999x999' })).rejects.toBeInstanceOf(
      OpenAI.BadRequestError,
    );
    await expect(c.images.generate({ prompt: 'something forbidden' })).rejects.toMatchObject({
      status: 400,
      code: 'moderation_blocked',
    });
    await expect(client(h, 'sk-wrong-key-123456').images.generate({ prompt: 'x' })).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
  });

  it('honours retry-after-ms on 429 and retries with X-Stainless-Retry-Count', async () => {
    const h2 = await startHarness({
      serve: true,
      worker: true,
      policy: { tiers: { free: { rateLimit: '1/s', burst: 1 } } },
    });
    try {
      const log: Sent[] = [];
      const c = client(h2, KEYS.free, log);
      await c.images.generate({ prompt: 'first' });
      const r = await c.images.generate({ prompt: 'second' });
      expect(r.data).toHaveLength(1);
      const second = log.slice(1);
      expect(second[0]).toMatchObject({ status: 429, retryCount: '0' });
      const retried = second.findIndex((s) => s.status === 200);
      expect(retried).toBeGreaterThan(0);
      expect(second[retried].retryCount).toBe(String(retried));
      // The SDK waited at least the hint it was given before each retry.
      for (let i = 1; i <= retried; i++) {
        expect(second[i].at - second[i - 1].at).toBeGreaterThanOrEqual(
          Number(second[i - 1].retryAfterMs) - 5,
        );
      }
    } finally {
      await h2.close();
    }
  });

  it('gives up after its retries when every attempt is shed (RateLimitError)', async () => {
    const log: Sent[] = [];
    await h.setAdmission({ plus: { mode: 'shed' } });
    try {
      await expect(client(h, KEYS.plus, log, 1).images.generate({ prompt: 'x' })).rejects.toBeInstanceOf(
        OpenAI.RateLimitError,
      );
      expect(log.map((s) => [s.status, s.retryCount])).toEqual([
        [429, '0'],
        [429, '1'],
      ]);
      const hint = Number(log[0].retryAfterMs);
      expect(hint).toBeGreaterThan(0);
      expect(hint).toBeLessThanOrEqual(60_000);
    } finally {
      await h.setAdmission({});
    }
  });
});
