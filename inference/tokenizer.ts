/**
 * Prompt tokenisation: each word hashes into a fixed vocabulary (FNV-1a). No vocabulary file is
 * needed, and a policy term maps to the same id in the model builder and at run time.
 */
export const VOCAB_SIZE = 16384;
export const MAX_PROMPT_TOKENS = 256;

const WORD = /[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)*/gu;

export function tokenId(word: string): number {
  let h = 0x811c9dc5;
  for (const ch of word.toLowerCase()) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // Id 0 is reserved for the empty prompt.
  return 1 + (h % (VOCAB_SIZE - 1));
}

export function tokenize(prompt: string): number[] {
  const words = prompt.normalize('NFKC').match(WORD) ?? [];
  const ids = words.slice(0, MAX_PROMPT_TOKENS).map(tokenId);
  return ids.length > 0 ? ids : [0];
}
