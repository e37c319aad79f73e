import type { ImageEncoder } from './encode.ts';
import type { ModelRunner, OnDecoded, PassRequest, RenderedPass } from './model-runner.ts';

/** The two model calls a pass makes on the thread that holds the sessions. */
export type PassModels = Pick<ModelRunner, 'decode'> & {
  moderateImage(rgba: Uint8Array, width: number, height: number): Promise<Float32Array>;
};

/**
 * Milliseconds on a clock every thread of the process reads alike (performance.now() counts from
 * its thread's time origin, which need not be the process's), so a pass asked for on one thread
 * can be timed on another.
 */
export function sharedClock(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * One pass where the models run: decode, then the frame's moderation and, for a stored pass, its
 * encoding side by side (sharp works on the libuv pool while the classifier runs on this thread).
 * Only the scores and the encoded file leave; the frame is garbage of this thread. Whether the
 * encoding may be stored is the caller's call, from the scores.
 */
export async function renderPass(
  models: PassModels,
  encoder: ImageEncoder,
  pass: PassRequest,
  onDecoded: OnDecoded,
  startedAt = sharedClock(),
): Promise<RenderedPass> {
  const { width, height } = pass;
  const rgba = await models.decode(pass.grid, pass.rows, pass.cols, width, height, pass.detail);
  onDecoded(sharedClock() - startedAt);
  const encoding = pass.encode ? encoder.encode(rgba, width, height, pass.encode) : null;
  // Awaited below unless moderation fails first; then its failure must not go unhandled.
  encoding?.catch(() => undefined);
  const scores = await models.moderateImage(rgba, width, height);
  const image = encoding ? await encoding : null;
  return { scores, image };
}
