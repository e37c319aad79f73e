import sharp from 'sharp';
import type { JobMessage } from '../common/contracts/index.ts';
import { SpillwayError } from '../common/errors.ts';
import type { BlobStore } from '../common/blob/blob-store.ts';
import { ARCH } from './models/architecture.ts';
import type { ModelRunner } from './model-runner.ts';
import type { RenderPlan } from './render-plan.ts';

/**
 * Step 2: the token grid an image is decoded from. A generation asks the prior (seed + image
 * index); an edit also encodes its input image into tokens and keeps them outside the mask's
 * transparent area — the extra encoder work is why an edit costs more.
 */
export async function tokenGrid(
  models: ModelRunner,
  blobs: BlobStore,
  message: JobMessage,
  plan: RenderPlan,
  tokens: number[],
  index: number,
): Promise<Int32Array> {
  const prior = await models.prior(tokens, plan.seed + index, plan.rows, plan.cols);
  if (message.operation !== 'edit') return prior;
  const source = message.inputImages[0];
  if (!source) throw new SpillwayError('edit_input_missing', 'an edit needs an input image');
  const input = await blobs.get(source);
  if (!input) throw new SpillwayError('edit_input_missing', `input image ${source} is not in the blob store`);
  const P = ARCH.encoderPatch;
  const rgb = await sharp(input.data)
    .resize(plan.cols * P, plan.rows * P, { fit: 'fill' })
    .removeAlpha()
    .raw()
    .toBuffer();
  const keep = await keepMask(blobs, message.mask, plan.rows, plan.cols);
  return models.encode(
    new Uint8Array(rgb.buffer, rgb.byteOffset, rgb.byteLength),
    plan.rows,
    plan.cols,
    keep,
    prior,
  );
}

/**
 * Per token: 1 keeps the input, 0 takes the prompt. OpenAI's mask marks the area to edit as
 * transparent; without a mask the prompt's tokens are woven in on a checkerboard.
 */
async function keepMask(
  blobs: BlobStore,
  maskKey: string | undefined,
  rows: number,
  cols: number,
): Promise<Float32Array> {
  const keep = new Float32Array(rows * cols);
  const mask = maskKey ? await blobs.get(maskKey) : null;
  if (maskKey && !mask)
    throw new SpillwayError('edit_input_missing', `mask ${maskKey} is not in the blob store`);
  if (!mask) {
    for (let i = 0; i < keep.length; i++) keep[i] = (Math.floor(i / cols) + (i % cols)) % 2;
    return keep;
  }
  const alpha = await sharp(mask.data)
    .ensureAlpha()
    .extractChannel(3)
    .resize(cols, rows, { fit: 'fill' })
    .raw()
    .toBuffer();
  for (let i = 0; i < keep.length; i++) keep[i] = alpha[i] >= 128 ? 1 : 0;
  return keep;
}
