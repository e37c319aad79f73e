import OpenAI, { toFile } from 'openai';
import sharp from 'sharp';
import { expect, it } from 'vitest';
import { KEYS } from './stack-fixture.ts';

/**
 * The official `openai` SDK, unchanged, against a running stack with real inference workers.
 * The same scenarios run against the embedded stack and the distributed one, so the SDK contract
 * holds in both modes.
 */
export function openaiScenarios(baseUrl: () => string): void {
  const client = (key = KEYS.pro) => new OpenAI({ apiKey: key, baseURL: `${baseUrl()}/v1`, timeout: 60_000 });

  it('generates an image (b64_json) with OpenAI’s response shape', async () => {
    const r = await client().images.generate({
      prompt: 'a lighthouse at dawn',
      size: '256x256',
      output_format: 'webp',
    } as never);
    expect(r.created).toBeGreaterThan(0);
    const img = Buffer.from(r.data![0].b64_json!, 'base64');
    expect((await sharp(img).metadata()).format).toBe('webp');
    expect(r.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('returns a signed url the gateway serves, to its owner only', async () => {
    const r = await client().images.generate({
      prompt: 'a windmill',
      size: '256x256',
      response_format: 'url',
    } as never);
    const url = r.data![0].url!;
    const res = await fetch(new URL(url, baseUrl()));
    expect(res.status).toBe(200);
    expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).width).toBe(256);
    const tampered = url.replace(/sig=([^&]{4})/, 'sig=AAAA');
    expect((await fetch(new URL(tampered, baseUrl()))).status).not.toBe(200);
  });

  it('edits an earlier image (multipart)', async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#3366aa' } })
      .png()
      .toBuffer();
    const r = await client().images.edit({
      image: await toFile(png, 'in.png', { type: 'image/png' }),
      prompt: 'add a moon',
      size: '256x256',
    } as never);
    expect(Buffer.from(r.data![0].b64_json!, 'base64').subarray(1, 4).toString()).toBe('PNG');
  });

  it('streams partial images that grow pass by pass, then the final image', async () => {
    const stream = await client().images.generate({
      prompt: 'a city skyline',
      size: '512x512',
      stream: true,
      partial_images: 3,
    } as never);
    const widths: number[] = [];
    const types: string[] = [];
    for await (const event of stream as unknown as AsyncIterable<{ type: string; b64_json: string }>) {
      types.push(event.type);
      widths.push((await sharp(Buffer.from(event.b64_json, 'base64')).metadata()).width ?? 0);
    }
    expect(types).toEqual([...Array(3).fill('image_generation.partial_image'), 'image_generation.completed']);
    for (let i = 1; i < widths.length; i++) expect(widths[i]).toBeGreaterThanOrEqual(widths[i - 1]);
    expect(widths[0]).toBeLessThan(widths[widths.length - 1]);
  });

  it('refuses a blocked prompt with 400 moderation_blocked', async () => {
    const err = await client()
      .images.generate({ prompt: 'a bloodbath', size: '256x256' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('moderation_blocked');
  });

  it('raises typed errors: bad key → 401, unknown model → 404 model_not_found', async () => {
    const bad = await client('sk-not-a-real-key-000000000000')
      .images.generate({ prompt: 'x' })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.AuthenticationError);
    const missing = await client()
      .images.generate({ prompt: 'x', model: 'no-such-model' })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });
}
