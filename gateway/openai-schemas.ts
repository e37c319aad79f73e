import { z } from 'zod';
import { type ApiError, invalidParam } from './api-error.ts';

/**
 * The OpenAI Images request and response shapes. The same schemas validate requests and
 * generate /openapi.json (openapi.ts), so the documentation cannot drift from the checks.
 */

/** The schemas /openapi.json names under components.schemas (requests by input, the rest by output). */
export const apiSchemas = z.registry<{ id: string }>();
export const REQUEST_SCHEMAS = new Set(['ImageGenerationRequest', 'ImageEditRequest', 'AdminKeyRequest']);

const Quality = z.enum(['standard', 'hd', 'low', 'medium', 'high', 'auto']);
const Background = z.enum(['transparent', 'opaque', 'auto']);
const OutputFormat = z.enum(['png', 'jpeg', 'webp']);
const ResponseFormat = z.enum(['url', 'b64_json']);

const common = {
  prompt: z.string().min(1).describe('What to draw'),
  model: z.string().nullish().describe('Model name; the policy default when absent'),
  size: z.string().nullish().describe('WIDTHxHEIGHT among the model sizes, or auto'),
  quality: Quality.nullish(),
  response_format: ResponseFormat.nullish().describe('url (served by the gateway, signed) or b64_json'),
  output_format: OutputFormat.nullish(),
  background: Background.nullish(),
  user: z.string().nullish(),
};

export const ImageGenerationRequest = z
  .strictObject({
    ...common,
    n: z.number().int().min(1).max(10).nullish(),
    output_compression: z.number().int().min(0).max(100).nullish(),
    partial_images: z
      .number()
      .int()
      .min(0)
      .max(3)
      .nullish()
      .describe('Partial images streamed (stream only)'),
    stream: z.boolean().nullish(),
    moderation: z.enum(['low', 'auto']).nullish(),
    style: z.enum(['vivid', 'natural']).nullish(),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .nullish()
      .describe('Extension: deterministic seed'),
  })
  .register(apiSchemas, { id: 'ImageGenerationRequest' });
export type ImageGenerationRequest = z.infer<typeof ImageGenerationRequest>;

/** Multipart sends numbers and booleans as strings. */
function formInt(min: number, max: number) {
  return z
    .union([z.number(), z.string().regex(/^-?\d+$/, 'expected an integer')])
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));
}
const FormBool = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .transform((v) => v === true || v === 'true');

export const ImageEditRequest = z
  .strictObject({
    ...common,
    image: z
      .union([z.file(), z.array(z.file()).min(1)])
      .describe('`image` (one file) or `image[]` (several)'),
    mask: z.file().optional(),
    n: formInt(1, 10).nullish(),
    output_compression: formInt(0, 100).nullish(),
    partial_images: formInt(0, 3).nullish(),
    stream: FormBool.nullish(),
    input_fidelity: z.enum(['high', 'low']).nullish(),
    seed: formInt(0, 2 ** 31 - 1).nullish(),
  })
  .register(apiSchemas, { id: 'ImageEditRequest' });
export type ImageEditRequest = z.infer<typeof ImageEditRequest>;

export const UsageSchema = z.object({
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
  total_tokens: z.number().int(),
  input_tokens_details: z.object({ text_tokens: z.number().int(), image_tokens: z.number().int() }),
});

export const ImagesResponse = z
  .object({
    created: z.number().int(),
    data: z.array(z.object({ b64_json: z.string().optional(), url: z.string().optional() })),
    background: z.enum(['transparent', 'opaque']).optional(),
    output_format: OutputFormat.optional(),
    quality: z.enum(['low', 'medium', 'high']).optional(),
    size: z.string().optional(),
    usage: UsageSchema.optional(),
  })
  .register(apiSchemas, { id: 'ImagesResponse' });
export type ImagesResponse = z.infer<typeof ImagesResponse>;

export const ImageStreamEvent = z
  .object({
    type: z.enum([
      'image_generation.partial_image',
      'image_generation.completed',
      'image_edit.partial_image',
      'image_edit.completed',
    ]),
    b64_json: z.string(),
    created_at: z.number().int(),
    size: z.string(),
    quality: z.string(),
    background: z.string(),
    output_format: OutputFormat,
    partial_image_index: z.number().int().min(0).optional(),
    usage: UsageSchema.optional(),
  })
  .register(apiSchemas, { id: 'ImageStreamEvent' });

export const JobView = z
  .object({
    id: z.string(),
    object: z.literal('image.job'),
    status: z.enum(['queued', 'running', 'completed', 'blocked', 'failed', 'expired', 'cancelled']),
    operation: z.enum(['generate', 'edit']),
    created_at: z.number().int(),
    lane: z.string(),
    tier: z.string(),
    pass: z.number().int(),
    passes: z.number().int(),
    queue_position: z
      .number()
      .int()
      .nullable()
      .describe('Jobs ahead of this one (own tier and higher tiers)'),
    estimated_wait_ms: z.number().int().nullable(),
    deadline: z.number().int().describe('Epoch ms after which the job will not start'),
    result: ImagesResponse.nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
  })
  .register(apiSchemas, { id: 'ImageJob' });
export type JobView = z.infer<typeof JobView>;

export const ErrorEnvelopeSchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string().nullable(),
    }),
  })
  .register(apiSchemas, { id: 'Error' });

export const SignupResponse = z
  .object({ api_key: z.string(), account: z.object({ id: z.string(), tier: z.string(), lane: z.string() }) })
  .register(apiSchemas, { id: 'SignupResponse' });

export const AdminKeyRequest = z
  .strictObject({ tier: z.string().min(1), lane: z.string().min(1), account: z.string().min(1).optional() })
  .register(apiSchemas, { id: 'AdminKeyRequest' });

export const AdminKeyResponse = z
  .object({
    key: z.string(),
    key_id: z.string(),
    account: z.object({ id: z.string(), tier: z.string(), lane: z.string() }),
  })
  .register(apiSchemas, { id: 'AdminKeyResponse' });

/** The first problem of a failed parse, as OpenAI reports it (one param, one message). */
export function zodToApiError(error: z.ZodError, body: unknown): ApiError {
  const issue = error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0];
    return invalidParam(key, `Unknown parameter: '${key}'.`, 'unknown_parameter');
  }
  const param = issue.path.map(String).join('.') || null;
  const top = issue.path[0];
  const missing =
    issue.path.length === 1 &&
    (typeof body !== 'object' || body === null || (body as Record<PropertyKey, unknown>)[top] === undefined);
  if (param && missing)
    return invalidParam(param, `Missing required parameter: '${param}'.`, 'missing_required_parameter');
  const message = `Invalid value for '${param ?? 'body'}': ${issue.message}`;
  return param ? invalidParam(param, message) : invalidParam('body', message);
}
