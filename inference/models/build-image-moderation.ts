import type { ModerationPolicy } from '../moderation-policy.ts';
import { visualCategories } from '../moderation-policy.ts';
import { SIGNATURE_BIAS, signatureDetector } from './architecture.ts';
import { DType, GraphBuilder } from './graph-builder.ts';

/** Detector response at a pure signature colour (see architecture.ts). */
const PEAK = 0.8;

/**
 * Image classifier: a per-pixel linear detector for each visual category's signature colour,
 * rectified and averaged over the image, divided by the category's policy threshold.
 * Input: image uint8 [1, H, W, 4]. Output `scores` [1, categories]: ≥ 1 means flagged.
 */
export function buildImageModeration(policy: ModerationPolicy): Uint8Array {
  const cats = visualCategories(policy);
  const n = Math.max(cats.length, 1);
  const w = new Float32Array(n * 4);
  const b = new Float32Array(n);
  cats.forEach((cat, c) => {
    const d = signatureDetector(c);
    const scale = 1 / (PEAK * policy.visual[cat].threshold);
    for (let ch = 0; ch < 3; ch++) w[c * 4 + ch] = (d[ch] / 255) * scale;
    b[c] = SIGNATURE_BIAS * scale;
  });
  // With no visual category, a single detector that never fires keeps the output shape valid.
  if (cats.length === 0) b[0] = -1;

  const g = new GraphBuilder('image_moderation');
  const image = g.input('image', DType.uint8, [1, 'H', 'W', 4]);
  const planar = g.node('Transpose', [g.node('Cast', [image], { to: DType.float })], { perm: [0, 3, 1, 2] });
  const response = g.node('Relu', [
    g.node('Conv', [planar, g.floats('detector_w', w, [n, 4, 1, 1]), g.floats('detector_b', b, [n])], {
      kernel_shape: [1, 1],
    }),
  ]);
  const pooled = g.node('GlobalAveragePool', [response]);
  g.node('Reshape', [pooled, g.ints('out_shape', [1, n])], {}, ['scores']);
  g.output('scores', DType.float, [1, n]);
  return g.toBytes();
}
