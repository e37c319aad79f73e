import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DEFAULT_MODERATION_FILE,
  loadModerationPolicy,
  type ModerationPolicy,
  textCategories,
  visualCategories,
} from '../moderation-policy.ts';
import { ARCH } from './architecture.ts';
import { buildDecoder } from './build-decoder.ts';
import { buildEncoder } from './build-encoder.ts';
import { buildImageModeration } from './build-image-moderation.ts';
import { buildPrior } from './build-prior.ts';
import { buildPromptModeration } from './build-prompt-moderation.ts';

export const DEFAULT_MODEL_DIR = '.cache/models';

const BUILDERS = {
  'prompt-moderation': buildPromptModeration,
  prior: buildPrior,
  decoder: buildDecoder,
  'image-moderation': buildImageModeration,
  encoder: buildEncoder,
} as const;
export type ModelName = keyof typeof BUILDERS;
export const MODEL_NAMES = Object.keys(BUILDERS) as ModelName[];

/** Where a built model set lives and what its outputs mean; plain data so it crosses threads. */
export interface ModelBundle {
  dir: string;
  hash: string;
  paths: Record<ModelName, string>;
  textCategories: string[];
  visualCategories: string[];
}

/** Builds depend only on the architecture and the moderation data, so that is the cache key. */
export function bundleHash(policy: ModerationPolicy): string {
  return createHash('sha256').update(JSON.stringify({ ARCH, policy })).digest('hex').slice(0, 16);
}

async function exists(path: string): Promise<boolean> {
  try {
    await readFile(path);
    return true;
  } catch {
    return false;
  }
}

export interface EnsureOptions {
  dir?: string;
  moderationFile?: string;
  policy?: ModerationPolicy;
  force?: boolean;
  onBuilt?: (name: ModelName, bytes: number, ms: number) => void;
}

/**
 * Returns the model set for the current moderation data, building missing models first (first
 * start, `spillway models build`). Files are written to a temporary name and renamed, so
 * processes building at once never read a half-written model.
 */
export async function ensureModels(options: EnsureOptions = {}): Promise<ModelBundle> {
  const policy =
    options.policy ?? (await loadModerationPolicy(options.moderationFile ?? DEFAULT_MODERATION_FILE));
  const hash = bundleHash(policy);
  const dir = join(options.dir ?? DEFAULT_MODEL_DIR, hash);
  await mkdir(dir, { recursive: true });
  const paths = {} as Record<ModelName, string>;
  for (const name of MODEL_NAMES) {
    const path = join(dir, `${name}.onnx`);
    paths[name] = path;
    if (!options.force && (await exists(path))) continue;
    const started = performance.now();
    const bytes = BUILDERS[name](policy);
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, path);
    options.onBuilt?.(name, bytes.byteLength, performance.now() - started);
  }
  return {
    dir,
    hash,
    paths,
    textCategories: textCategories(policy),
    visualCategories: visualCategories(policy),
  };
}
