import type { ModerationPolicy } from '../moderation-policy.ts';
import { visualCategories } from '../moderation-policy.ts';
import { tokenId, VOCAB_SIZE } from '../tokenizer.ts';
import { ARCH, flaggedRange } from './architecture.ts';
import { WeightRng } from './deterministic-weights.ts';
import { DType, GraphBuilder } from './graph-builder.ts';

/** Logit offsets that make visual concepts own the flagged codebook region inside a central disc. */
const CONCEPT_PULL = 30;
const FLAGGED_BIAS = -12;
const DISC_RADIUS = 0.36;

/**
 * Prior: prompt tokens + seed → grid of codebook indices.
 * Embedding lookup, mean-pool and L2-normalise the prompt; embed the seed with sinusoids; one
 * matmul gives coarse per-cell logits, upsampled (linear) to the full grid and arg-maxed, so a
 * prompt becomes smooth regions of tokens. Concept words from the moderation policy add a large
 * pull towards their category's flagged entries in the centre of the image.
 * Inputs: tokens int64 [1, L], seed float [1], grid int64 [2] (rows, cols).
 * Output: grid_tokens int64 [1, rows, cols].
 */
export function buildPrior(policy: ModerationPolicy): Uint8Array {
  const { codebook: K, embed: D, seedEmbed: S, coarseGrid: G } = ARCH;
  const cats = visualCategories(policy);
  const rng = new WeightRng(0x9f10);
  const cells = G * G;

  const g = new GraphBuilder('prior');
  const tokens = g.input('tokens', DType.int64, [1, 'L']);
  const seed = g.input('seed', DType.float, [1]);
  const grid = g.input('grid', DType.int64, [2]);

  const emb = g.floats('embedding', rng.normals(VOCAB_SIZE * D, 1), [VOCAB_SIZE, D]);
  const pooled = g.node('ReduceMean', [g.node('Gather', [emb, tokens], { axis: 0 })], {
    axes: [1],
    keepdims: 0,
  });
  const prompt = g.node('LpNormalization', [pooled], { axis: 1, p: 2 });

  const freqs = g.floats(
    'seed_freq',
    Float32Array.from({ length: S }, () => 0.05 + rng.next() * 3),
    [S],
  );
  const phases = g.floats('seed_phase', rng.normals(S, 1), [S]);
  const seedVec = g.node('Sin', [g.node('Add', [g.node('Mul', [seed, freqs]), phases])]);
  const seed2d = g.node('Reshape', [seedVec, g.ints('seed_shape', [1, S])]);

  const features = g.node('Concat', [prompt, seed2d], { axis: 1 });
  const wPrompt = rng.normals(D * cells * K, 3);
  const wSeed = rng.normals(S * cells * K, 0.5);
  const w = new Float32Array((D + S) * cells * K);
  w.set(wPrompt, 0);
  w.set(wSeed, D * cells * K);
  let logits = g.node('MatMul', [features, g.floats('w_cells', w, [D + S, cells * K])]);

  if (cats.length > 0) {
    const concept = new Float32Array(VOCAB_SIZE * cats.length);
    cats.forEach((cat, c) => {
      for (const term of policy.visual[cat].concepts) concept[tokenId(term) * cats.length + c] = 1;
    });
    const conceptScores = g.node(
      'ReduceMax',
      [g.node('Gather', [g.floats('concepts', concept, [VOCAB_SIZE, cats.length]), tokens], { axis: 0 })],
      { axes: [1], keepdims: 0 },
    );
    const pull = new Float32Array(cats.length * cells * K);
    const bias = new Float32Array(cells * K);
    cats.forEach((_, c) => {
      const { from, to } = flaggedRange(c);
      for (let cell = 0; cell < cells; cell++) {
        const inDisc =
          Math.hypot((cell % G) + 0.5 - G / 2, Math.floor(cell / G) + 0.5 - G / 2) < DISC_RADIUS * G;
        for (let k = from; k < to; k++) {
          bias[cell * K + k] = FLAGGED_BIAS;
          if (inDisc) pull[(c * cells + cell) * K + k] = CONCEPT_PULL;
        }
      }
    });
    const conceptLogits = g.node('MatMul', [
      conceptScores,
      g.floats('w_concepts', pull, [cats.length, cells * K]),
    ]);
    logits = g.node('Add', [
      g.node('Add', [logits, conceptLogits]),
      g.floats('flagged_bias', bias, [cells * K]),
    ]);
  }

  const coarse = g.node('Transpose', [g.node('Reshape', [logits, g.ints('coarse_shape', [1, G, G, K])])], {
    perm: [0, 3, 1, 2],
  });
  const fineSize = g.node('Concat', [g.ints('batch_codes', [1, K]), grid], { axis: 0 });
  const fine = g.node('Resize', [coarse, '', '', fineSize], { mode: 'linear' });
  g.node('ArgMax', [fine], { axis: 1, keepdims: 0 }, ['grid_tokens']);
  g.output('grid_tokens', DType.int64, [1, 'rows', 'cols']);
  return g.toBytes();
}
