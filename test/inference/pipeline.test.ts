import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobMessage } from '../../common/contracts/index.ts';
import { createMemoryInfra } from '../../common/memory-infra.ts';
import type { ActivePolicy } from '../../common/policy/schema.ts';
import type { ModelRunner, OnDecoded, PassRequest } from '../../inference/model-runner.ts';
import { OnnxModels } from '../../inference/onnx-models.ts';
import { type Outcome, runPipeline } from '../../inference/pipeline.ts';
import { planRender } from '../../inference/render-plan.ts';
import { enqueue, jobMessage, testModels, testPolicy } from './fixtures.ts';

let models: OnnxModels;
let policy: ActivePolicy;
let categories: { text: string[]; visual: string[] };

beforeAll(async () => {
  const bundle = await testModels();
  models = await OnnxModels.load(bundle);
  policy = await testPolicy();
  categories = { text: bundle.textCategories, visual: bundle.visualCategories };
});
afterAll(() => models.close());

/** Records the passes asked for (their widths) so a test can prove which passes ran. */
function counting(inner: ModelRunner): ModelRunner & { decodes: number[]; requests: PassRequest[] } {
  const decodes: number[] = [];
  const requests: PassRequest[] = [];
  return Object.assign(Object.create(inner) as ModelRunner, {
    decodes,
    requests,
    renderPass: (pass: PassRequest, onDecoded: OnDecoded) => {
      decodes.push(pass.width);
      requests.push(pass);
      return inner.renderPass(pass, onDecoded);
    },
  });
}

async function render(message: JobMessage, runner: ModelRunner = models) {
  const infra = createMemoryInfra();
  await enqueue(infra, message);
  const claim = await infra.jobs.claim(message.id, 'w1', 10_000, Date.now());
  if (!claim.ok) throw new Error('claim failed');
  const plan = planRender(message, claim.record, policy.policy);
  const outcome: Outcome = await runPipeline(
    {
      jobs: infra.jobs,
      events: infra.events,
      blobs: infra.blobs,
      models: runner,
      categories,
      leaseMs: 10_000,
    },
    { record: claim.record, fence: claim.fence, plan, signal: new AbortController().signal },
  );
  return {
    infra,
    outcome,
    record: (await infra.jobs.get(message.id))!,
    events: await infra.events.read(message.id, 0),
  };
}

/** Variance of the 4-neighbour Laplacian of the luminance: the usual blur/sharpness measure. */
async function sharpness(png: Buffer): Promise<{ width: number; height: number; lapVar: number }> {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  const { width: w, height: h } = info;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const lap = data[i - 1] + data[i + 1] + data[i - w] + data[i + w] - 4 * data[i];
      sum += lap;
      sumSq += lap * lap;
      n++;
    }
  }
  return { width: w, height: h, lapVar: sumSq / n - (sum / n) ** 2 };
}

describe('pipeline', () => {
  it('streams partials that grow in size and sharpness pass by pass, then the final', async () => {
    const message = jobMessage({ params: { size: '512x512', partialImages: 3 } });
    const { infra, outcome, record, events } = await render(message);
    expect(outcome.kind).toBe('completed');
    expect(record.state).toBe('completed');
    expect(record.partials).toHaveLength(3);
    const partialEvents = events.filter((e) => e.event.type === 'partial');
    expect(partialEvents.map((e) => (e.event.type === 'partial' ? e.event.index : -1))).toEqual([0, 1, 2]);
    const keys = [...record.partials, record.result!.images[0].blob];
    const measured = [];
    for (const key of keys) measured.push(await sharpness((await infra.blobs.get(key))!.data));
    for (let i = 1; i < measured.length; i++) {
      expect(measured[i].width).toBeGreaterThan(measured[i - 1].width);
      expect(measured[i].lapVar).toBeGreaterThan(measured[i - 1].lapVar);
    }
    expect(measured.at(-1)).toMatchObject({ width: 512, height: 512 });
    expect(events.at(-1)!.event).toMatchObject({ type: 'state', state: 'completed' });
    expect(record.result!.usage.output_tokens).toBe(8 * 8 * 4);
  });

  it('asks the models for one render pass per pass, an encoding only for passes it stores', async () => {
    // A frame must not come back to this thread: a bare decode or moderation from the pipeline fails.
    const runner = Object.assign(counting(models), {
      decode: () => Promise.reject(new Error('the pipeline decoded on its own thread')),
      moderateImage: () => Promise.reject(new Error('the pipeline moderated on its own thread')),
    });
    const message = jobMessage({ params: { size: '512x512', partialImages: 1, outputFormat: 'jpeg' } });
    const { infra, outcome, record } = await render(message, runner);
    expect(outcome.kind).toBe('completed');
    expect(runner.decodes).toEqual([64, 128, 256, 512]);
    // One partial, at pass 3 of 4 (render-plan's choice); passes 1 and 2 are not stored.
    expect(runner.requests.map((r) => r.encode?.fast ?? null)).toEqual([null, null, true, false]);
    expect(runner.requests.every((r) => r.encode === null || r.encode.format === 'jpeg')).toBe(true);
    expect(record.partials).toHaveLength(1);
    const partial = await sharp((await infra.blobs.get(record.partials[0]))!.data).metadata();
    expect(partial).toMatchObject({ format: 'jpeg', width: 256 });
    const final = await sharp((await infra.blobs.get(record.result!.images[0].blob))!.data).metadata();
    expect(final).toMatchObject({ format: 'jpeg', width: 512 });
  });

  it('streams partials of the first image only when n > 1, one index sequence', async () => {
    const message = jobMessage({ params: { size: '256x256', n: 2, partialImages: 3 } });
    const { record, events } = await render(message);
    expect(record.result!.images).toHaveLength(2);
    const partials = events.flatMap((e) => (e.event.type === 'partial' ? [e.event] : []));
    expect(partials.map((p) => p.index)).toEqual([0, 1, 2]);
    // Overall passes of image 0 are 1–4; image 1's are 5–8.
    expect(partials.every((p) => p.pass <= 4)).toBe(true);
    expect(record.partials).toEqual(partials.map((p) => p.blob));
  });

  it('gives the same bytes for the same prompt and seed, different bytes for another prompt', async () => {
    const a = await render(jobMessage({ params: { seed: 7 } }));
    const b = await render(jobMessage({ params: { seed: 7 } }));
    const c = await render(jobMessage({ prompt: 'a red fox asleep in snow', params: { seed: 7 } }));
    const bytes = async (r: typeof a) => (await r.infra.blobs.get(r.record.result!.images[0].blob))!.data;
    expect((await bytes(a)).equals(await bytes(b))).toBe(true);
    expect((await bytes(a)).equals(await bytes(c))).toBe(false);
  });

  it('blocks a prompt whose text passes but whose image pass is flagged, and runs no later pass', async () => {
    const message = jobMessage({ prompt: 'a quiet field of entrails at noon', params: { partialImages: 3 } });
    const runner = counting(models);
    expect((await models.moderatePrompt([1])).every((s) => s < 1)).toBe(true);
    const { outcome, record, events } = await render(message, runner);
    expect(outcome).toMatchObject({ kind: 'blocked', stage: 'image', pass: 1, categories: ['gore'] });
    expect(record.state).toBe('blocked');
    expect(record.error?.code).toBe('moderation_blocked');
    // Pass 2 may have been decoding alongside pass 1's moderation; passes 3 and 4 never start.
    expect(runner.decodes.length).toBeLessThanOrEqual(2);
    expect(runner.decodes.length).toBeLessThan(4);
    expect(record.partials).toHaveLength(0);
    expect(events.filter((e) => e.event.type === 'partial')).toHaveLength(0);
  });

  it('blocks a prompt with an explicit term before any decode', async () => {
    const runner = counting(models);
    const { outcome, record } = await render(jobMessage({ prompt: 'a massacre in the valley' }), runner);
    expect(outcome).toMatchObject({ kind: 'blocked', stage: 'prompt' });
    expect(record.state).toBe('blocked');
    expect(runner.decodes).toHaveLength(0);
  });

  it('honours brownout: fewer passes, smaller size, capped partials', async () => {
    const message = jobMessage({
      params: { size: '1024x1024', partialImages: 3 },
      brownout: { level: 2, passes: 2, maxSize: '256x256', partialImages: 1 },
    });
    const runner = counting(models);
    const { record } = await render(message, runner);
    expect(runner.decodes).toEqual([128, 256]);
    expect(record.partials).toHaveLength(1);
    expect(record.result!.images[0]).toMatchObject({ width: 256, height: 256 });
  });

  it('renders n images with seeds seed+i and encodes the requested format', async () => {
    const { infra, record } = await render(
      jobMessage({ params: { n: 2, outputFormat: 'webp', background: 'transparent' } }),
    );
    const [first, second] = record.result!.images;
    expect(first.blob).toMatch(/image-0\.webp$/);
    const a = (await infra.blobs.get(first.blob))!;
    const b = (await infra.blobs.get(second.blob))!;
    expect(a.contentType).toBe('image/webp');
    expect(a.data.equals(b.data)).toBe(false);
    expect((await sharp(a.data).metadata()).hasAlpha).toBe(true);
  });

  it('edits an input image: the kept area keeps the input, the edit costs image tokens', async () => {
    const infra0 = createMemoryInfra();
    const input = await sharp({
      create: { width: 256, height: 256, channels: 3, background: { r: 20, g: 200, b: 40 } },
    })
      .png()
      .toBuffer();
    const message = jobMessage({
      operation: 'edit',
      inputImages: ['uploads/in.png'],
      prompt: 'add a red fox',
    });
    await enqueue(infra0, message);
    await infra0.blobs.put('uploads/in.png', input, 'image/png');
    const claim = await infra0.jobs.claim(message.id, 'w1', 10_000, Date.now());
    if (!claim.ok) throw new Error('claim');
    const plan = planRender(message, claim.record, policy.policy);
    const outcome = await runPipeline(
      { jobs: infra0.jobs, events: infra0.events, blobs: infra0.blobs, models, categories, leaseMs: 10_000 },
      { record: claim.record, fence: claim.fence, plan, signal: new AbortController().signal },
    );
    expect(outcome.kind).toBe('completed');
    const record = (await infra0.jobs.get(message.id))!;
    expect(record.result!.usage.input_tokens_details.image_tokens).toBe(16);
    const { data } = await sharp((await infra0.blobs.get(record.result!.images[0].blob))!.data)
      .resize(4, 4, { kernel: 'nearest' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    // Without a mask the input is kept on a checkerboard: every kept token shows the input's green.
    for (let cell = 0; cell < 16; cell++) {
      if ((Math.floor(cell / 4) + (cell % 4)) % 2 === 0) continue;
      const [r, g, b] = [data[cell * 3], data[cell * 3 + 1], data[cell * 3 + 2]];
      expect(g).toBeGreaterThan(Math.max(r, b));
    }
  });
});
