import * as ort from 'onnxruntime-node';
import { ARCH } from './models/architecture.ts';
import type { ModelBundle, ModelName } from './models/model-cache.ts';
import { type ImageEncoder, sharpEncoder } from './encode.ts';
import type { ModelRunner, OnDecoded, PassRequest } from './model-runner.ts';
import { renderPass } from './render-pass.ts';

/** Seeds enter the graph as float32; folding keeps them exact integers there. */
const SEED_MODULUS = 65521;

function int64(values: ArrayLike<number>, dims: number[]): ort.Tensor {
  const out = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = BigInt(values[i]);
  return new ort.Tensor('int64', out, dims);
}

function toInt32(t: ort.Tensor): Int32Array {
  const src = t.data as BigInt64Array;
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
  return out;
}

/**
 * The five ONNX sessions on the calling thread. One intra-op thread each: a worker slot is one
 * "GPU", and parallelism comes from slots and threads, not from oversubscribing shared cores.
 */
export class OnnxModels implements ModelRunner {
  private constructor(
    private readonly sessions: Record<ModelName, ort.InferenceSession>,
    private readonly encoder: ImageEncoder,
  ) {}

  /** `encoder` encodes stored passes; sharp unless a test watches it. */
  static async load(bundle: ModelBundle, threads = 1, encoder = sharpEncoder): Promise<OnnxModels> {
    const options: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    };
    const entries = await Promise.all(
      (Object.keys(bundle.paths) as ModelName[]).map(
        async (name) => [name, await ort.InferenceSession.create(bundle.paths[name], options)] as const,
      ),
    );
    return new OnnxModels(Object.fromEntries(entries) as Record<ModelName, ort.InferenceSession>, encoder);
  }

  async moderatePrompt(tokens: number[]) {
    const out = await this.sessions['prompt-moderation'].run({ tokens: int64(tokens, [1, tokens.length]) });
    return Float32Array.from(out.scores.data as Float32Array);
  }

  async prior(tokens: number[], seed: number, rows: number, cols: number) {
    const out = await this.sessions.prior.run({
      tokens: int64(tokens, [1, tokens.length]),
      seed: new ort.Tensor('float32', Float32Array.of(seed % SEED_MODULUS), [1]),
      grid: int64([rows, cols], [2]),
    });
    return toInt32(out.grid_tokens);
  }

  /** `startedAt` (sharedClock) is when the pass was asked for, on whichever thread asked. */
  renderPass(pass: PassRequest, onDecoded: OnDecoded, startedAt?: number) {
    return renderPass(this, this.encoder, pass, onDecoded, startedAt);
  }

  async decode(grid: Int32Array, rows: number, cols: number, width: number, height: number, detail: number) {
    const out = await this.sessions.decoder.run({
      grid_tokens: int64(grid, [1, rows, cols]),
      size: int64([height, width], [2]),
      detail: new ort.Tensor('float32', Float32Array.of(detail), [1]),
    });
    return out.image.data as Uint8Array;
  }

  /** Part of renderPass, not of ModelRunner: a frame is moderated where it was decoded. */
  async moderateImage(rgba: Uint8Array, width: number, height: number) {
    const out = await this.sessions['image-moderation'].run({
      image: new ort.Tensor('uint8', rgba, [1, height, width, 4]),
    });
    return Float32Array.from(out.scores.data as Float32Array);
  }

  async encode(rgb: Uint8Array, rows: number, cols: number, keep: Float32Array, prior: Int32Array) {
    const P = ARCH.encoderPatch;
    const out = await this.sessions.encoder.run({
      image: new ort.Tensor('uint8', rgb, [1, rows * P, cols * P, 3]),
      keep: new ort.Tensor('float32', keep, [1, rows, cols]),
      prior: int64(prior, [1, rows, cols]),
    });
    return toInt32(out.grid_tokens);
  }

  async close() {
    await Promise.all(Object.values(this.sessions).map((s) => s.release()));
  }
}
