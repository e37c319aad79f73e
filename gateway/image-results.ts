import type { JobRecord } from '../common/contracts/index.ts';
import type { BlobStore } from '../common/blob/blob-store.ts';
import { ApiError } from './api-error.ts';
import type { ImageUrlSigner } from './image-urls.ts';
import type { InlineBlobs } from './inline-blobs.ts';
import type { ImagesResponse } from './openai-schemas.ts';
import { jitteredHintMs, retryHeaders } from './retry-hints.ts';

export interface ResultContext {
  blobs: BlobStore;
  signer: ImageUrlSigner;
  /** Scheme and host the client reached us on, for absolute result URLs. */
  readonly origin: string;
  urlTtlMs: number;
  now: number;
  /** Holds the b64_json images until the response is serialised with `inline.json()`. */
  inline: InlineBlobs;
}

/** Response fields OpenAI echoes: resolved quality and background, never `auto`. */
export function echoedSettings(record: JobRecord) {
  const p = record.message.params;
  return {
    quality: p.quality === 'auto' ? ('medium' as const) : p.quality,
    background: p.background === 'transparent' ? ('transparent' as const) : ('opaque' as const),
    output_format: p.outputFormat,
  };
}

export function resultSize(record: JobRecord): string {
  const first = record.result?.images[0];
  return first ? `${first.width}x${first.height}` : record.message.params.size;
}

/** A stored image as a `b64_json` value: a stand-in that `inline.json()` expands to base64. */
export async function inlineImage(blobs: BlobStore, key: string, inline: InlineBlobs): Promise<string> {
  const blob = await blobs.get(key);
  if (!blob) throw new ApiError(500, 'result_missing', 'The image of this job is no longer available.');
  return inline.add(blob.data);
}

/**
 * A completed job as OpenAI's ImagesResponse: signed URLs, or b64_json read from the blob store
 * as stand-ins, so serialise it with `ctx.inline.json()`.
 */
export async function imagesResponse(record: JobRecord, ctx: ResultContext): Promise<ImagesResponse> {
  const result = record.result;
  if (!result) throw new ApiError(500, 'result_missing', 'The job finished without a result.');
  const expires = Math.floor((ctx.now + ctx.urlTtlMs) / 1000);
  const data =
    record.message.params.responseFormat === 'url'
      ? result.images.map((_, i) => ({ url: ctx.origin + ctx.signer.path(record.id, i, expires) }))
      : await Promise.all(
          result.images.map(async (img) => ({
            b64_json: await inlineImage(ctx.blobs, img.blob, ctx.inline),
          })),
        );
  return {
    created: result.created,
    data,
    size: resultSize(record),
    ...echoedSettings(record),
    usage: result.usage,
  };
}

/** Why a job that ended without a result ended, as the error a sync client receives. */
export function terminalError(record: JobRecord, random: number): ApiError {
  const message = record.error?.message;
  switch (record.state) {
    case 'blocked':
      return new ApiError(
        400,
        'moderation_blocked',
        message ?? 'Your request was rejected as a result of our safety system.',
        null,
        { 'x-should-retry': 'false' },
      );
    case 'expired':
      return new ApiError(
        503,
        'job_expired',
        'The job waited longer than your plan allows and was not run. Please retry later.',
        null,
        retryHeaders(jitteredHintMs(5000, random), null),
      );
    case 'cancelled':
      return new ApiError(409, 'job_cancelled', 'The job was cancelled.', null, {
        'x-should-retry': 'false',
      });
    default:
      return new ApiError(500, record.error?.code ?? 'job_failed', message ?? 'The job failed.', null, {});
  }
}
