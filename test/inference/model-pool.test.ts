import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelPool } from '../../inference/model-pool.ts';
import { OnnxModels } from '../../inference/onnx-models.ts';
import { tokenize } from '../../inference/tokenizer.ts';
import { testModels } from './fixtures.ts';

let pool: ModelPool;
let local: OnnxModels;

beforeAll(async () => {
  const bundle = await testModels();
  [pool, local] = await Promise.all([ModelPool.start(bundle, 2), OnnxModels.load(bundle)]);
}, 30_000);
afterAll(async () => {
  await pool.close();
  await local.close();
});

describe('model pool', () => {
  it('gives the same results as the models on this thread', async () => {
    const tokens = tokenize('a lighthouse at dusk');
    const [a, b] = await Promise.all([pool.prior(tokens, 3, 4, 4), local.prior(tokens, 3, 4, 4)]);
    expect([...a]).toEqual([...b]);
    const [x, y] = await Promise.all([pool.decode(a, 4, 4, 64, 64, 0.2), local.decode(b, 4, 4, 64, 64, 0.2)]);
    expect(Buffer.from(x).equals(Buffer.from(y))).toBe(true);
  });

  it('keeps the event loop free while a large pass decodes', async () => {
    const grid = await pool.prior(tokenize('a red fox'), 1, 16, 16);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = performance.now();
    await pool.decode(grid, 16, 16, 1024, 1024, 0.3);
    const elapsed = performance.now() - started;
    clearInterval(timer);
    // A blocked loop would tick once at the end; a free one ticks through the decode.
    expect(ticks).toBeGreaterThan(Math.min(5, elapsed / 20));
  });
});
