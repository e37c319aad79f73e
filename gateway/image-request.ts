import { randomInt } from 'node:crypto';
import type { ImageParams, Operation } from '../common/contracts/index.ts';
import { parseSize } from '../common/contracts/index.ts';
import type { Policy } from '../common/policy/schema.ts';
import { ApiError, invalidParam } from './api-error.ts';
import type { ImageEditRequest, ImageGenerationRequest } from './openai-schemas.ts';
import { requestCost } from '../common/policy/request-cost.ts';

/** An OpenAI request resolved against the policy: what the job will carry and what it costs. */
export interface ResolvedImageRequest {
  operation: Operation;
  prompt: string;
  params: ImageParams;
  stream: boolean;
  /** Decode passes of the model at full quality (brownout may lower them). */
  passes: number;
  /** Policy cost units: operation cost × n × area / 1024². */
  cost: number;
}

const QUALITY: Record<string, ImageParams['quality']> = {
  standard: 'medium',
  hd: 'high',
  low: 'low',
  medium: 'medium',
  high: 'high',
  auto: 'auto',
};

type ParsedRequest = Omit<ImageGenerationRequest, 'stream' | 'moderation' | 'style'> &
  Pick<ImageEditRequest, 'stream'>;

export function resolveImageRequest(
  req: ParsedRequest,
  operation: Operation,
  policy: Policy,
): ResolvedImageRequest {
  if (req.prompt.length > policy.limits.maxPromptChars) {
    throw invalidParam(
      'prompt',
      `Invalid 'prompt': string too long. Expected a string with maximum length ${policy.limits.maxPromptChars}, but got a string with length ${req.prompt.length} instead.`,
      'string_above_max_length',
    );
  }
  const modelName = req.model ?? policy.models.default;
  const model = policy.models.available.find((m) => m.name === modelName);
  if (!model) {
    throw new ApiError(404, 'model_not_found', `The model '${modelName}' does not exist.`, 'model');
  }
  const size = !req.size || req.size === 'auto' ? model.defaultSize : req.size;
  if (!model.sizes.includes(size)) {
    throw invalidParam(
      'size',
      `Invalid size '${size}'. Supported sizes for ${model.name}: ${model.sizes.join(', ')}, auto.`,
    );
  }
  const outputFormat = req.output_format ?? 'png';
  const background = req.background ?? 'auto';
  if (background === 'transparent' && outputFormat === 'jpeg') {
    throw invalidParam('background', 'Transparent background requires output_format png or webp.');
  }
  const stream = req.stream === true;
  const n = req.n ?? 1;
  const { width, height } = parseSize(size);
  const params: ImageParams = {
    model: model.name,
    size,
    quality: QUALITY[req.quality ?? 'auto'],
    outputFormat,
    outputCompression: req.output_compression ?? undefined,
    background,
    partialImages: stream ? (req.partial_images ?? 0) : 0,
    n,
    seed: req.seed ?? randomInt(2 ** 31 - 1),
    responseFormat: req.response_format ?? (model.name.startsWith('dall-e') ? 'url' : 'b64_json'),
  };
  const cost = requestCost(policy, operation, n, width, height);
  return { operation, prompt: req.prompt, params, stream, passes: model.passes, cost };
}
