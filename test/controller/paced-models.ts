import type { ModelRunner, OnDecoded, PassRequest, RenderedPass } from '../../inference/model-runner.ts';

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

  private floor(width: number, height: number): { ms: number; elapsed: Promise<unknown> } {
    const ms = (this.msPerMegapixel * width * height) / 1e6;
    return { ms, elapsed: new Promise((r) => setTimeout(r, ms)) };
  }

  /** The decode is reported ended no sooner than the floor; the result comes no sooner either. */
  async renderPass(pass: PassRequest, onDecoded: OnDecoded): Promise<RenderedPass> {
    const floor = this.floor(pass.width, pass.height);
    const paced = (ms: number) => void floor.elapsed.then(() => onDecoded(Math.max(ms, floor.ms)));
    const [out] = await Promise.all([this.inner.renderPass(pass, paced), floor.elapsed]);
    return out;
  }

  async decode(
    grid: Int32Array,
    rows: number,
    cols: number,
    width: number,
    height: number,
    detail: number,
  ): Promise<Uint8Array> {
    const [out] = await Promise.all([
      this.inner.decode(grid, rows, cols, width, height, detail),
      this.floor(width, height).elapsed,
    ]);
    return out;
  }

  moderatePrompt(tokens: number[]) {
    return this.inner.moderatePrompt(tokens);
  }

  prior(tokens: number[], seed: number, rows: number, cols: number) {
    return this.inner.prior(tokens, seed, rows, cols);
  }

  encode(rgb: Uint8Array, rows: number, cols: number, keep: Float32Array, prior: Int32Array) {
    return this.inner.encode(rgb, rows, cols, keep, prior);
  }

  /** The inner runner is shared by several workers; its owner closes it. */
  async close() {}
}
