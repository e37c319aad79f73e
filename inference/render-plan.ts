import type { JobMessage, JobRecord, Usage } from '../common/contracts/index.ts';
import { parseSize } from '../common/contracts/index.ts';
import type { Policy } from '../common/policy/schema.ts';
import { ARCH } from './models/architecture.ts';

/** Everything a job will render, decided up front from its message, record and the policy. */
export interface RenderPlan {
  width: number;
  height: number;
  rows: number;
  cols: number;
  /** Decode passes per image; pass k (1-based) renders at passSizes[k-1]. */
  passes: number;
  passSizes: { width: number; height: number }[];
  /** Passes (1-based) of the first image whose result is streamed as a partial image, in order. */
  partialPasses: number[];
  images: number;
  seed: number;
}

/** Detail amplitude of pass k of n: grows faster than the pass size so every pass is sharper. */
export function passDetail(k: number, n: number): number {
  return 0.3 * (k / n) ** 1.5;
}

const MIN_PASS_SIDE = 16;

function cappedSize(size: string, maxSize: string | undefined): { width: number; height: number } {
  const { width, height } = parseSize(size);
  if (!maxSize) return { width, height };
  const cap = parseSize(maxSize);
  const scale = Math.min(1, cap.width / width, cap.height / height);
  return {
    width: Math.max(MIN_PASS_SIDE, Math.round(width * scale)),
    height: Math.max(MIN_PASS_SIDE, Math.round(height * scale)),
  };
}

function modelPasses(policy: Policy, model: string): number {
  const models = policy.models.available;
  return (
    models.find((m) => m.name === model) ??
    models.find((m) => m.name === policy.models.default) ??
    models[0]
  ).passes;
}

/** Evenly spread `count` partials over the passes before the last (the last is the final image). */
export function choosePartialPasses(count: number, passes: number): number[] {
  const n = Math.min(count, passes - 1);
  if (n <= 0) return [];
  return Array.from({ length: n }, (_, j) => Math.ceil(((j + 1) * (passes - 1)) / n));
}

export function planRender(
  message: JobMessage,
  record: Pick<JobRecord, 'passes'>,
  policy: Policy,
): RenderPlan {
  const brownout = message.brownout;
  const { width, height } = cappedSize(message.params.size, brownout?.maxSize);
  const base = record.passes > 0 ? record.passes : modelPasses(policy, message.params.model);
  const passes = Math.max(1, Math.min(base, brownout?.passes ?? base));
  const passSizes = Array.from({ length: passes }, (_, i) => {
    const div = 2 ** (passes - 1 - i);
    return {
      width: Math.max(MIN_PASS_SIDE, Math.ceil(width / div)),
      height: Math.max(MIN_PASS_SIDE, Math.ceil(height / div)),
    };
  });
  const partials = Math.min(message.params.partialImages, brownout?.partialImages ?? 3);
  return {
    width,
    height,
    rows: Math.max(1, Math.round(height / ARCH.tokenPx)),
    cols: Math.max(1, Math.round(width / ARCH.tokenPx)),
    passes,
    passSizes,
    partialPasses: choosePartialPasses(partials, passes),
    images: message.params.n,
    seed: message.params.seed,
  };
}

/**
 * Token usage in OpenAI's shape: prompt words as text tokens, each input image's token grid as
 * image tokens, and every decoded token of every pass as output tokens (a 1024² 4-pass image is
 * 4096, close to OpenAI's high-quality figure).
 */
export function usageFor(
  plan: RenderPlan,
  textTokens: number,
  inputImages: number,
  passesRun: number,
): Usage {
  const cells = plan.rows * plan.cols;
  const imageTokens = inputImages * cells;
  const output = cells * passesRun;
  return {
    input_tokens: textTokens + imageTokens,
    output_tokens: output,
    total_tokens: textTokens + imageTokens + output,
    input_tokens_details: { text_tokens: textTokens, image_tokens: imageTokens },
  };
}
