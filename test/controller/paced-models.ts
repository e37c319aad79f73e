import type { ModelRunner } from '../../inference/model-runner.ts';

/**
 * TEST-ONLY model runner: the real models, but every decode pass takes at least
 * `msPerMegapixel` × its output area, as a GPU would, whatever the CPU does. A worker's capacity
 * is then set by its slots and this floor, not by how busy the shared test machine happens to be,
 * so halving the workers halves what they can finish. Pass latency stays proportional to area,
 * as the worker's saturation signal (ms per megapixel) expects.
 */
export class PacedModels implements ModelRunner {
  constructor(
    private readonly inner: ModelRunner,
    readonly msPerMegapixel: number,
  ) {}

  async decode(
    grid: Int32Array,
    rows: number,
    cols: number,
    width: number,
    height: number,
    detail: number,
  ): Promise<Uint8Array> {
    const floor = new Promise((r) => setTimeout(r, (this.msPerMegapixel * width * height) / 1e6));
    const [out] = await Promise.all([this.inner.decode(grid, rows, cols, width, height, detail), floor]);
    return out;
  }

  moderatePrompt(tokens: number[]) {
    return this.inner.moderatePrompt(tokens);
  }

  prior(tokens: number[], seed: number, rows: number, cols: number) {
    return this.inner.prior(tokens, seed, rows, cols);
  }

  moderateImage(rgba: Uint8Array, width: number, height: number) {
    return this.inner.moderateImage(rgba, width, height);
  }

  encode(rgb: Uint8Array, rows: number, cols: number, keep: Float32Array, prior: Int32Array) {
    return this.inner.encode(rgb, rows, cols, keep, prior);
  }

  /** The inner runner is shared by several workers; its owner closes it. */
  async close() {}
}
