import type { ModerationPolicy } from '../moderation-policy.ts';
import { textCategories } from '../moderation-policy.ts';
import { tokenId, VOCAB_SIZE } from '../tokenizer.ts';
import { DType, GraphBuilder } from './graph-builder.ts';

/**
 * Prompt classifier: a per-token category table (from the policy's term lists) looked up for
 * every token and max-pooled over the prompt. Output `scores` [1, categories]: ≥ 1 means flagged.
 */
export function buildPromptModeration(policy: ModerationPolicy): Uint8Array {
  const cats = textCategories(policy);
  const table = new Float32Array(VOCAB_SIZE * cats.length);
  cats.forEach((cat, c) => {
    for (const term of policy.text[cat]) table[tokenId(term) * cats.length + c] = 1;
  });
  const g = new GraphBuilder('prompt_moderation');
  const tokens = g.input('tokens', DType.int64, [1, 'L']);
  const w = g.floats('term_table', table, [VOCAB_SIZE, cats.length]);
  const perToken = g.node('Gather', [w, tokens], { axis: 0 });
  g.node('ReduceMax', [perToken], { axes: [1], keepdims: 0 }, ['scores']);
  g.output('scores', DType.float, [1, cats.length]);
  return g.toBytes();
}
