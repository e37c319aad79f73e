/** A classifier's per-category scores read against its categories: ≥ 1 is flagged. */
export interface Verdict {
  flagged: boolean;
  categories: string[];
}

export function verdictOf(scores: Float32Array, categories: string[]): Verdict {
  const hit = categories.filter((_, i) => scores[i] >= 1);
  return { flagged: hit.length > 0, categories: hit };
}
