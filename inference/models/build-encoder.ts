import type { ModerationPolicy } from '../moderation-policy.ts';
import { visualCategories } from '../moderation-policy.ts';
import { ARCH } from './architecture.ts';
import { buildCodebook } from './codebook.ts';
import { DType, GraphBuilder } from './graph-builder.ts';

/**
 * Edit encoder: input image → token grid, merged with the prompt's grid.
 * A 3×3 anti-alias blur over the full-resolution input, average pooling to one colour per token,
 * nearest codebook colour (distance as a 1×1 convolution), then per cell the input's token where
 * `keep` is set and the prompt's token elsewhere (the mask's transparent area is what gets edited).
 * Inputs: image uint8 [1, rows·P, cols·P, 3], keep float [1, rows, cols], prior int64 [1, rows, cols].
 * Output: grid_tokens int64 [1, rows, cols].
 */
export function buildEncoder(policy: ModerationPolicy): Uint8Array {
  const { codebook: K, features: F, encoderPatch: P } = ARCH;
  const cb = buildCodebook(visualCategories(policy).length);
  const g = new GraphBuilder('encoder');
  const image = g.input('image', DType.uint8, [1, 'h', 'w', 3]);
  const keep = g.input('keep', DType.float, [1, 'rows', 'cols']);
  const prior = g.input('prior', DType.int64, [1, 'rows', 'cols']);

  const planar = g.node('Transpose', [g.node('Cast', [image], { to: DType.float })], { perm: [0, 3, 1, 2] });
  const blurKernel = new Float32Array(3 * 3 * 9);
  const taps = [1, 2, 1, 2, 4, 2, 1, 2, 1].map((v) => v / 16 / 255);
  for (let c = 0; c < 3; c++) blurKernel.set(taps, (c * 3 + c) * 9);
  const blurred = g.node('Conv', [planar, g.floats('blur', blurKernel, [3, 3, 3, 3])], {
    kernel_shape: [3, 3],
    pads: [1, 1, 1, 1],
  });
  const colors = g.node('AveragePool', [blurred], { kernel_shape: [P, P], strides: [P, P] });

  // ‖x − c‖² ranks like −2·x·c + ‖c‖² (‖x‖² is the same for every entry).
  const w = new Float32Array(K * 3);
  const b = new Float32Array(K);
  for (let k = 0; k < K; k++) {
    for (let ch = 0; ch < 3; ch++) {
      const v = cb[k * F + ch];
      w[k * 3 + ch] = -2 * v;
      b[k] += v * v;
    }
  }
  const distances = g.node(
    'Conv',
    [colors, g.floats('dist_w', w, [K, 3, 1, 1]), g.floats('dist_b', b, [K])],
    {
      kernel_shape: [1, 1],
    },
  );
  const encoded = g.node('ArgMin', [distances], { axis: 1, keepdims: 0 });
  const keepMask = g.node('Greater', [keep, g.floats('half', [0.5], [])]);
  g.node('Where', [keepMask, encoded, prior], {}, ['grid_tokens']);
  g.output('grid_tokens', DType.int64, [1, 'rows', 'cols']);
  return g.toBytes();
}
