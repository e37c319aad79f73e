import sharp, { type Metadata } from 'sharp';
import type { Policy } from '../common/policy/schema.ts';
import { ApiError, invalidParam } from './api-error.ts';
import { readLimitedBody } from './request-body.ts';

const IMAGE_FORMATS = new Set(['png', 'jpeg', 'webp']);

export interface UploadedImage {
  data: Buffer;
  contentType: string;
}

/** The multipart fields of an edit, as the schema expects them (files in `image`, `mask`). */
export interface EditForm {
  fields: Record<string, unknown>;
  images: UploadedImage[];
  mask: UploadedImage | null;
}

function editBodyLimit(policy: Policy): number {
  return policy.limits.maxBodyBytes + policy.limits.maxImageBytes * policy.limits.maxParts;
}

/** Reads an OpenAI-style multipart edit: `image` or `image[]` (one or more files), optional `mask`. */
export async function readEditForm(req: Request, policy: Policy): Promise<EditForm> {
  const type = req.headers.get('content-type') ?? '';
  if (!type.startsWith('multipart/form-data')) {
    throw new ApiError(415, 'unsupported_media_type', 'Content-Type must be multipart/form-data.', null, {
      'x-should-retry': 'false',
    });
  }
  const bytes = await readLimitedBody(req, editBodyLimit(policy));
  const counted = countParts(bytes, type);
  if (counted > policy.limits.maxParts) {
    throw invalidParam('body', `Too many parts: at most ${policy.limits.maxParts}.`, 'too_many_parts');
  }
  let form: FormData;
  try {
    form = await new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: { 'content-type': type },
    }).formData();
  } catch {
    throw invalidParam('body', 'The multipart body could not be parsed.', 'invalid_multipart');
  }
  let parts = 0;
  const fields: Record<string, unknown> = {};
  const files: File[] = [];
  for (const [name, value] of form as unknown as Iterable<[string, FormDataEntryValue]>) {
    if (++parts > policy.limits.maxParts) {
      throw invalidParam(name, `Too many parts: at most ${policy.limits.maxParts}.`, 'too_many_parts');
    }
    if (name === 'image' || name === 'image[]') {
      if (typeof value === 'string') throw invalidParam('image', "'image' must be a file.");
      files.push(value);
    } else {
      fields[name] = value;
    }
  }
  if (files.length > 0) fields.image = files.length === 1 && form.has('image') ? files[0] : files;
  const images = await Promise.all(
    files.map((f, i) => checkImage(f, files.length > 1 ? `image[${i}]` : 'image', policy)),
  );
  const maskFile = fields.mask;
  const mask = maskFile instanceof File ? await checkImage(maskFile, 'mask', policy) : null;
  return { fields, images, mask };
}

/**
 * Parts in a multipart body, counted from its boundary delimiters before anything is parsed, so a
 * body of thousands of tiny parts is refused for the price of a byte scan, not a parse into
 * thousands of objects. A part's content may not contain the delimiter (RFC 2046 §5.1.1), so
 * counting `--boundary` after a line break (or at the very start) counts parts, plus the closing
 * one. No boundary parameter: 0, and the parser reports the body as malformed.
 */
export function countParts(bytes: Uint8Array, contentType: string): number {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return 0;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  let delimiters = buf.subarray(0, delimiter.length - 2).equals(delimiter.subarray(2)) ? 1 : 0;
  for (let at = buf.indexOf(delimiter); at !== -1; at = buf.indexOf(delimiter, at + delimiter.length))
    delimiters++;
  return Math.max(0, delimiters - 1);
}

async function checkImage(file: File, param: string, policy: Policy): Promise<UploadedImage> {
  if (file.size > policy.limits.maxImageBytes) {
    throw invalidParam(
      param,
      `Image is larger than ${policy.limits.maxImageBytes} bytes.`,
      'image_too_large',
    );
  }
  const data = Buffer.from(await file.arrayBuffer());
  let meta: Metadata;
  try {
    meta = await sharp(data).metadata();
  } catch {
    throw invalidParam(param, 'Invalid image file: expected PNG, JPEG or WebP.', 'invalid_image_format');
  }
  if (!meta.format || !IMAGE_FORMATS.has(meta.format)) {
    throw invalidParam(param, 'Invalid image file: expected PNG, JPEG or WebP.', 'invalid_image_format');
  }
  const max = policy.limits.maxImageDimension;
  if ((meta.width ?? 0) > max || (meta.height ?? 0) > max) {
    throw invalidParam(param, `Image dimensions must be at most ${max}x${max}.`, 'image_too_large');
  }
  return { data, contentType: `image/${meta.format}` };
}
