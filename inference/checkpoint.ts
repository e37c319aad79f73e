import { z } from 'zod';
import { ResultImage } from '../common/contracts/index.ts';

/**
 * What a worker saves after every pass so another worker can resume: which image and pass are
 * done, the token grid being decoded (the only expensive state — passes re-render from it), the
 * finished images and the last pass image's blob, if one was stored.
 */
export const Checkpoint = z.object({
  v: z.literal(1),
  image: z.number().int().min(0),
  pass: z.number().int().min(0),
  passesRun: z.number().int().min(0),
  rows: z.number().int().positive(),
  cols: z.number().int().positive(),
  grid: z.array(z.number().int().min(0)),
  images: z.array(ResultImage),
  lastImage: z.string().nullable(),
});
export type Checkpoint = z.infer<typeof Checkpoint>;

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(c));
}

/** A checkpoint that does not parse (older format, corruption) is ignored: the job restarts. */
export function decodeCheckpoint(data: Uint8Array | null): Checkpoint | null {
  if (!data) return null;
  try {
    const parsed = Checkpoint.safeParse(JSON.parse(new TextDecoder().decode(data)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
