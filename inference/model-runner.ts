import type { EncodeOptions } from './encode.ts';

/** One decode pass of a job, as the pipeline asks for it. */
export interface PassRequest {
  /** Token grid (rows × cols codebook indices, row-major). */
  grid: Int32Array;
  rows: number;
  cols: number;
  width: number;
  height: number;
  detail: number;
  /** How to encode the pass when it will be stored (a partial or the final); null = not stored. */
  encode: EncodeOptions | null;
}

/** A pass as it leaves the models: never the frame itself, only what the pipeline keeps of it. */
export interface RenderedPass {
  /** Per visual category score of the decoded frame; ≥ 1 means flagged. */
  scores: Float32Array;
  /** The frame as an image file when the request asked for an encoding, else null. */
  image: Uint8Array | null;
}

/**
 * Told when a pass's decode ends, before its moderation and encoding: the caller asks for its next
 * pass then, so a job has one decode at a time and the models never wait on the encoder.
 * `decodeMs` runs from the call to the end of the decode, waiting for a busy model thread
 * included: the pass latency the worker reports as its saturation signal.
 */
export type OnDecoded = (decodeMs: number) => void;

/**
 * The models as the pipeline sees them: plain typed arrays in and out, so the same calls work on
 * this thread (OnnxModels) or across worker threads (ModelPool). All math happens in the graphs.
 */
export interface ModelRunner {
  /** Per text category score; ≥ 1 means flagged. */
  moderatePrompt(tokens: number[]): Promise<Float32Array>;
  /** Token grid (rows × cols codebook indices, row-major). */
  prior(tokens: number[], seed: number, rows: number, cols: number): Promise<Int32Array>;
  /**
   * Decode, image moderation and (if asked) encoding of one pass where the models run, so a frame
   * (4 MB of RGBA at 1024²) never crosses to the caller's thread.
   */
  renderPass(pass: PassRequest, onDecoded: OnDecoded): Promise<RenderedPass>;
  /** RGBA bytes, row-major, width × height × 4: a bare decode, for calibration and benchmarks. */
  decode(
    grid: Int32Array,
    rows: number,
    cols: number,
    width: number,
    height: number,
    detail: number,
  ): Promise<Uint8Array>;
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
