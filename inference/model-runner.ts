/**
 * The models as the pipeline sees them: plain typed arrays in and out, so the same calls work on
 * this thread (OnnxModels) or across worker threads (ModelPool). All math happens in the graphs.
 */
export interface ModelRunner {
  /** Per text category score; ≥ 1 means flagged. */
  moderatePrompt(tokens: number[]): Promise<Float32Array>;
  /** Token grid (rows × cols codebook indices, row-major). */
  prior(tokens: number[], seed: number, rows: number, cols: number): Promise<Int32Array>;
  /** RGBA bytes, row-major, width × height × 4. */
  decode(
    grid: Int32Array,
    rows: number,
    cols: number,
    width: number,
    height: number,
    detail: number,
  ): Promise<Uint8Array>;
  /** Per visual category score; ≥ 1 means flagged. */
  moderateImage(rgba: Uint8Array, width: number, height: number): Promise<Float32Array>;
  /** Edit: input RGB bytes (cols·P × rows·P) → token grid, keeping input tokens where keep > 0.5. */
  encode(
    rgb: Uint8Array,
    rows: number,
    cols: number,
    keep: Float32Array,
    prior: Int32Array,
  ): Promise<Int32Array>;
  close(): Promise<void>;
}
