import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { SpillwayError } from '../common/errors.ts';

export const DEFAULT_MODERATION_FILE = 'policies/moderation/terms.yaml';
export const MAX_VISUAL_CATEGORIES = 3;

const Term = z.string().regex(/^[\p{L}\p{N}]+(?:-[\p{L}\p{N}]+)*$/u, 'a term is one word (hyphens allowed)');

export const ModerationPolicy = z
  .object({
    text: z.record(z.string(), z.array(Term).min(1)),
    visual: z
      .record(
        z.string(),
        z.object({ concepts: z.array(Term).min(1), threshold: z.number().gt(0).max(1) }).strict(),
      )
      .refine((v) => Object.keys(v).length <= MAX_VISUAL_CATEGORIES, {
        message: `at most ${MAX_VISUAL_CATEGORIES} visual categories`,
      }),
  })
  .strict();
export type ModerationPolicy = z.infer<typeof ModerationPolicy>;

export async function loadModerationPolicy(path = DEFAULT_MODERATION_FILE): Promise<ModerationPolicy> {
  const text = await readFile(path, 'utf8');
  const parsed = ModerationPolicy.safeParse(parse(text));
  if (parsed.success) return parsed.data;
  const i = parsed.error.issues[0];
  throw new SpillwayError('moderation_policy_invalid', `${path}: ${i.path.join('.')}: ${i.message}`);
}

export function textCategories(p: ModerationPolicy): string[] {
  return Object.keys(p.text).sort();
}

export function visualCategories(p: ModerationPolicy): string[] {
  return Object.keys(p.visual).sort();
}
