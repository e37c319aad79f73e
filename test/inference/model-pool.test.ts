import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EncodeOptions } from '../../inference/encode.ts';
import { ModelPool } from '../../inference/model-pool.ts';
import type { PassRequest } from '../../inference/model-runner.ts';
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

  it('renders a pass in its thread: the same scores and file as on this thread, no frame back', async () => {
    const grid = await local.prior(tokenize('a lighthouse at dusk'), 3, 8, 8);
    const pass = (encode: EncodeOptions | null): PassRequest => ({
      grid,
      rows: 8,
      cols: 8,
      width: 256,
      height: 256,
      detail: 0.3,
      encode,
    });
    const png: EncodeOptions = { format: 'png', transparent: false, fast: true };
    const decodes: number[] = [];
    const [x, y] = await Promise.all([
      pool.renderPass(pass(png), (ms) => decodes.push(ms)),
      local.renderPass(pass(png), () => {}),
    ]);
    expect([...x.scores]).toEqual([...y.scores]);
    expect(Buffer.from(x.image!).equals(Buffer.from(y.image!))).toBe(true);
    // Only the encoded file came back: a PNG, far smaller than the 256 KB RGBA frame.
    expect(Object.keys(x).sort()).toEqual(['image', 'scores']);
    expect(Buffer.from(x.image!.subarray(0, 8)).equals(PNG_SIGNATURE)).toBe(true);
    expect(x.image!.byteLength).toBeLessThan(256 * 256 * 4);
    expect(decodes).toHaveLength(1);
    expect(decodes[0]).toBeGreaterThan(0);
    // A pass that is not stored brings back its scores alone.
    const bare = await pool.renderPass(pass(null), () => {});
    expect(bare.image).toBeNull();
    expect([...bare.scores]).toEqual([...y.scores]);
  });

  it('times a pass from the call, so waiting for a busy model thread counts', async () => {
    const single = await ModelPool.start(await testModels(), 1);
    try {
      const grid = await single.prior(tokenize('a red fox'), 1, 16, 16);
      const pass = (side: number): PassRequest => ({
        grid,
        rows: 16,
        cols: 16,
        width: side,
        height: side,
        detail: 0.3,
        encode: null,
      });
      const ms = { big: 0, small: 0 };
      const big = single.renderPass(pass(1024), (t) => {
        ms.big = t;
      });
      // Sent while the only thread decodes the large pass: the small one waits for it.
      await new Promise((r) => setTimeout(r, 5));
      const small = single.renderPass(pass(64), (t) => {
        ms.small = t;
      });
      await Promise.all([big, small]);
      // It waited for most of the large decode (and its moderation); timed only once the thread
      // took it up, it would read the moderation and its own ~1 ms, about a third of the large one.
      expect(ms.small).toBeGreaterThan(ms.big * 0.8);
    } finally {
      await single.close();
    }
  });

  it('keeps the event loop free while a large pass renders', async () => {
    const grid = await pool.prior(tokenize('a red fox'), 1, 16, 16);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const started = performance.now();
    const png: EncodeOptions = { format: 'png', transparent: false };
    await pool.renderPass(
      { grid, rows: 16, cols: 16, width: 1024, height: 1024, detail: 0.3, encode: png },
      () => {},
    );
    const elapsed = performance.now() - started;
    clearInterval(timer);
    // A blocked loop would tick once at the end; a free one ticks through the decode.
    expect(ticks).toBeGreaterThan(Math.min(5, elapsed / 20));
  });

  it('lowers the CPU priority of its model threads only, when asked', async () => {
    const bundle = await testModels();
    const lowered = await ModelPool.start(bundle, 2, 7);
    try {
      const ids = lowered.priorities.map((p) => (p.applied ? p.threadId : Number.NaN));
      expect(ids.every((id) => id > 0 && id !== process.pid)).toBe(true);
      expect(ids.map(threadNice)).toEqual([7, 7]);
      // The event loop's thread keeps its priority; the default pool above is not lowered.
      expect(getPriority()).toBe(0);
      expect(pool.priorities.every((p) => !p.applied)).toBe(true);
      // Still computes the same results.
      const tokens = tokenize('a lighthouse at dusk');
      expect([...(await lowered.prior(tokens, 3, 4, 4))]).toEqual([...(await local.prior(tokens, 3, 4, 4))]);
    } finally {
      await lowered.close();
    }
  });
});

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The nice value of one thread of this process, from /proc (field 19 of its stat line). */
function threadNice(threadId: number): number {
  const stat = readFileSync(`/proc/self/task/${threadId}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}
