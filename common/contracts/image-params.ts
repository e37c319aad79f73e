import { z } from 'zod';

/** Rendering parameters a job carries, already resolved from the OpenAI request and policy defaults. */
export const OutputFormat = z.enum(['png', 'jpeg', 'webp']);
export type OutputFormat = z.infer<typeof OutputFormat>;

export const ImageSize = z.string().regex(/^\d{2,4}x\d{2,4}$/, 'size must look like 1024x1024');

export const ImageParams = z.object({
  model: z.string(),
  size: ImageSize,
  quality: z.enum(['low', 'medium', 'high', 'auto']),
  outputFormat: OutputFormat,
  outputCompression: z.number().int().min(0).max(100).optional(),
  background: z.enum(['transparent', 'opaque', 'auto']),
  /** Partial images streamed before the final one (OpenAI allows 0–3). */
  partialImages: z.number().int().min(0).max(3),
  n: z.number().int().min(1).max(10),
  seed: z.number().int().min(0),
  responseFormat: z.enum(['b64_json', 'url']),
});
export type ImageParams = z.infer<typeof ImageParams>;

export function parseSize(size: string): { width: number; height: number } {
  const [w, h] = size.split('x').map(Number);
  return { width: w, height: h };
}
