import type { ModerationPolicy } from '../moderation-policy.ts';
import { visualCategories } from '../moderation-policy.ts';
import { ARCH } from './architecture.ts';
import { buildCodebook } from './codebook.ts';
import { WeightRng } from './deterministic-weights.ts';
import { DType, GraphBuilder } from './graph-builder.ts';

/**
 * Decoder: renders a token grid at one pass's size.
 * Codebook lookup → bilinear upsample to H×W → three 3×3 convolutions over the upsampled
 * features (the cost that grows with pixels, like a real decoder) → a luminance detail signal
 * that modulates a fine texture, scaled by `detail` (larger on later passes, hence sharper) →
 * colour + detail, alpha from the last convolution → RGBA bytes.
 * Inputs: grid_tokens int64 [1, rows, cols], size int64 [2] (H, W), detail float [1].
 * Output: image uint8 [1, H, W, 4].
 */
export function buildDecoder(policy: ModerationPolicy): Uint8Array {
  const { codebook: K, features: F, hidden: Hd, textureTile: T } = ARCH;
  const rng = new WeightRng(0xdec0);
  const g = new GraphBuilder('decoder');
  const grid = g.input('grid_tokens', DType.int64, [1, 'rows', 'cols']);
  const size = g.input('size', DType.int64, [2]);
  const detail = g.input('detail', DType.float, [1]);

  const cb = g.floats('codebook', buildCodebook(visualCategories(policy).length), [K, F]);
  const tokenFeatures = g.node('Transpose', [g.node('Gather', [cb, grid], { axis: 0 })], {
    perm: [0, 3, 1, 2],
  });
  const fullSize = g.node('Concat', [g.ints('batch_feat', [1, F]), size], { axis: 0 });
  const up = g.node('Resize', [tokenFeatures, '', '', fullSize], { mode: 'linear' });

  const conv = (x: string, cin: number, cout: number, name: string) =>
    g.node(
      'Conv',
      [
        x,
        g.floats(`${name}_w`, rng.normals(cout * cin * 9, Math.sqrt(2 / (cin * 9))), [cout, cin, 3, 3]),
        g.floats(`${name}_b`, rng.normals(cout, 0.1), [cout]),
      ],
      {
        kernel_shape: [3, 3],
        pads: [1, 1, 1, 1],
      },
    );
  const h1 = g.node('Relu', [conv(up, F, Hd, 'conv1')]);
  const h2 = g.node('Relu', [conv(h1, Hd, Hd, 'conv2')]);
  const head = conv(h2, Hd, 2, 'conv3');
  const modulation = g.node('Tanh', [
    g.node('Slice', [head, g.ints('c0', [0]), g.ints('c1', [1]), g.ints('ax1', [1])]),
  ]);
  const alphaLogit = g.node('Slice', [head, g.ints('c1b', [1]), g.ints('c2', [2]), g.ints('ax1b', [1])]);

  // A zero-mean texture tile repeated over the image: the fine detail later passes reveal.
  const tile = rng.normals(T * T, 1);
  const mean = tile.reduce((a, b) => a + b, 0) / tile.length;
  for (let i = 0; i < tile.length; i++) tile[i] -= mean;
  const tiles = g.node('Div', [g.node('Add', [size, g.ints('t_round', [T - 1])]), g.ints('t_side', [T])]);
  const repeats = g.node('Concat', [g.ints('ones2', [1, 1]), tiles], { axis: 0 });
  const texture = g.node('Slice', [
    g.node('Tile', [g.floats('texture', tile, [1, 1, T, T]), repeats]),
    g.ints('zero2', [0, 0]),
    size,
    g.ints('ax23', [2, 3]),
  ]);
  const lum = g.node('Mul', [g.node('Mul', [modulation, texture]), detail]);

  const color = g.node('Slice', [up, g.ints('r0', [0]), g.ints('r3', [3]), g.ints('ax1c', [1])]);
  const rgb = g.node('Add', [color, lum]);
  const alpha = g.node('Sigmoid', [
    g.node('Add', [
      g.node('Mul', [alphaLogit, g.floats('a_gain', [3], [1])]),
      g.floats('a_bias', [1.5], [1]),
    ]),
  ]);
  const rgba = g.node('Concat', [rgb, alpha], { axis: 1 });
  const scaled = g.node('Add', [
    g.node('Mul', [rgba, g.floats('k255', [255], [1])]),
    g.floats('half', [0.5], [1]),
  ]);
  const clipped = g.node('Clip', [scaled, g.floats('lo', [0], []), g.floats('hi', [255], [])]);
  const bytes = g.node('Cast', [clipped], { to: DType.uint8 });
  g.node('Transpose', [bytes], { perm: [0, 2, 3, 1] }, ['image']);
  g.output('image', DType.uint8, [1, 'H', 'W', 4]);
  return g.toBytes();
}
