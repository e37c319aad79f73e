/** Shape constants the model builders and the runtime agree on. Changing one changes the build hash. */
export const ARCH = {
  version: 1,
  /** Codebook entries (image token values). */
  codebook: 64,
  /** Feature channels per codebook entry; the first three are its RGB colour. */
  features: 8,
  /** Hidden channels of the decoder's convolutions. */
  hidden: 8,
  /** Prompt embedding and seed embedding widths. */
  embed: 32,
  seedEmbed: 8,
  /** The prior's logits live on a coarse grid upsampled to the token grid, so regions are smooth blobs. */
  coarseGrid: 8,
  /** Output pixels per image token at the final size. */
  tokenPx: 64,
  /** Input pixels per token the edit encoder pools over. */
  encoderPatch: 32,
  /** Side of the decoder's detail texture tile. */
  textureTile: 8,
  /** Codebook entries reserved per visual moderation category (at the end of the codebook). */
  flaggedPerCategory: 4,
} as const;

/**
 * Signature colours of visual categories. The decoder renders a category's flagged codebook
 * entries in its colour; the image classifier detects it with a linear test that no ordinary
 * codebook colour passes (see codebook.ts).
 */
export const SIGNATURES: readonly [number, number, number][] = [
  [1, 0, 1],
  [0, 1, 1],
  [1, 1, 0],
];

/** Detector for signature i: a·rgb − 1.2 is > 0 only near the signature (max 0.8 at it). */
export function signatureDetector(i: number): [number, number, number] {
  const s = SIGNATURES[i];
  return s.map((v) => (v === 1 ? 1 : -2)) as [number, number, number];
}
export const SIGNATURE_BIAS = -1.2;

export function flaggedRange(category: number): { from: number; to: number } {
  const from = ARCH.codebook - (category + 1) * ARCH.flaggedPerCategory;
  return { from, to: from + ARCH.flaggedPerCategory };
}
