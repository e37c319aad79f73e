import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
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

/** The nice value of one thread of this process, from /proc (field 19 of its stat line). */
function threadNice(threadId: number): number {
  const stat = readFileSync(`/proc/self/task/${threadId}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}
