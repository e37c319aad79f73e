import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EncodeOptions, type ImageEncoder, sharpEncoder } from '../../inference/encode.ts';
import type { PassRequest } from '../../inference/model-runner.ts';
import { OnnxModels } from '../../inference/onnx-models.ts';
import { type PassModels, renderPass, sharedClock } from '../../inference/render-pass.ts';
import { testModels } from './fixtures.ts';

let models: OnnxModels;
let grid: Int32Array;

beforeAll(async () => {
  models = await OnnxModels.load(await testModels());
  grid = await models.prior([1, 2, 3], 1, 8, 8);
});
afterAll(() => models.close());

const PNG: EncodeOptions = { format: 'png', transparent: false };

function request(side: number, encode: EncodeOptions | null): PassRequest {
  return { grid, rows: 8, cols: 8, width: side, height: side, detail: 0.3, encode };
}

/** Sharp, recording the sizes it was asked to encode. */
function watching(): ImageEncoder & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    encode: (rgba, width, height, options) => {
      asked.push(width);
      return sharpEncoder.encode(rgba, width, height, options);
    },
  };
}

describe('render pass', () => {
  it('returns the scores of the decoded frame and its encoding, not the frame', async () => {
    const rgba = await models.decode(grid, 8, 8, 128, 128, 0.3);
    const expectedScores = await models.moderateImage(rgba, 128, 128);
    const expectedImage = await sharpEncoder.encode(rgba, 128, 128, PNG);
    const out = await renderPass(models, sharpEncoder, request(128, PNG), () => {});
    expect(Object.keys(out).sort()).toEqual(['image', 'scores']);
    expect([...out.scores]).toEqual([...expectedScores]);
    expect(Buffer.from(out.image!).equals(expectedImage)).toBe(true);
  });

  it('encodes nothing for a pass that will not be stored', async () => {
    const encoder = watching();
    const out = await renderPass(models, encoder, request(64, null), () => {});
    expect(out.image).toBeNull();
    expect(out.scores.length).toBeGreaterThan(0);
    expect(encoder.asked).toEqual([]);
  });

  it('encodes a stored pass while its moderation runs, not after it', async () => {
    // Moderation waits (up to 2 s) for the encoder to be asked: a pass that encoded only after
    // moderation would ask too late.
    const encoder = watching();
    let early = false;
    const gated: PassModels = {
      decode: (...args) => models.decode(...args),
      moderateImage: async (rgba, width, height) => {
        await new Promise<void>((resolve) => {
          const poll = setInterval(() => encoder.asked.length > 0 && done(), 1);
          const timeout = setTimeout(() => done(), 2000);
          function done() {
            clearInterval(poll);
            clearTimeout(timeout);
            resolve();
          }
        });
        early = encoder.asked.length > 0;
        return models.moderateImage(rgba, width, height);
      },
    };
    const out = await renderPass(gated, encoder, request(256, PNG), () => {});
    expect(early).toBe(true);
    expect(out.image).not.toBeNull();
  });

  it('reports the decode ended before moderation, timed from when the pass was asked for', async () => {
    const order: string[] = [];
    const slow: PassModels = {
      decode: async (...args) => {
        order.push('decode');
        return models.decode(...args);
      },
      moderateImage: async (rgba, width, height) => {
        order.push('moderate');
        await new Promise((r) => setTimeout(r, 150));
        return models.moderateImage(rgba, width, height);
      },
    };
    let decodeMs = Number.NaN;
    // Asked for 100 ms ago, on whichever thread: that wait is part of the pass's latency.
    const startedAt = sharedClock() - 100;
    await renderPass(
      slow,
      sharpEncoder,
      request(64, null),
      (ms) => {
        order.push('decoded');
        decodeMs = ms;
      },
      startedAt,
    );
    expect(order).toEqual(['decode', 'decoded', 'moderate']);
    expect(decodeMs).toBeGreaterThanOrEqual(100);
    // The 150 ms moderation is not in it.
    expect(decodeMs).toBeLessThan(240);
  });

  it('fails when the encoding fails, after moderation, with nothing left unhandled', async () => {
    const failing: ImageEncoder = { encode: () => Promise.reject(new Error('encoder broke')) };
    await expect(renderPass(models, failing, request(64, PNG), () => {})).rejects.toThrow('encoder broke');
  });
});
