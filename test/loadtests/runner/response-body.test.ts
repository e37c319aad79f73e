import { describe, expect, it } from 'vitest';
import { drainBody, readHead, sseEnding } from '../../../loadtests/runner/response-body.ts';

/** A body delivered in chunks of `size` bytes, as sockets do. */
async function* chunks(text: string, size: number): AsyncIterable<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

const b64 = 'QUJD'.repeat(50_000);
const partial = `event: image_generation.partial_image\ndata: {"type":"image_generation.partial_image","b64_json":"${b64}"}\n\n`;
const completed = `event: image_generation.completed\ndata: {"type":"image_generation.completed","b64_json":"${b64}"}\n\n`;
const error = `data: {"error":{"message":"no","type":"invalid_request_error","param":null,"code":"moderation_blocked"}}\n\n`;

describe('response bodies read without keeping them', () => {
  it('drains and counts', async () => {
    expect(await drainBody(chunks('x'.repeat(100_000), 7_000))).toBe(100_000);
  });

  it('keeps only the head, and tells whether it was the whole body', async () => {
    const long = await readHead(chunks(`{"status":"completed","b64":"${b64}"}`, 4096), 100);
    expect(long.head).toHaveLength(100);
    expect(long.head.startsWith('{"status":"completed"')).toBe(true);
    expect(long.complete).toBe(false);
    const short = await readHead(chunks('{"status":"queued"}', 3), 100);
    expect(short).toEqual({ head: '{"status":"queued"}', complete: true });
  });

  it.each([1, 13, 4096, 65_536])(
    'finds a completed stream across chunk boundaries (chunks of %i)',
    async (size) => {
      expect(await sseEnding(chunks(`: keep-alive\n\n${partial}${partial}${completed}`, size))).toEqual({
        kind: 'completed',
      });
    },
  );

  it('finds an error envelope after partials, whole', async () => {
    const ending = await sseEnding(chunks(`${partial}${error}`, 1000));
    expect(ending.kind).toBe('error');
    expect(ending.kind === 'error' && JSON.parse(ending.data).error.code).toBe('moderation_blocked');
  });

  it('calls a stream that ends without either truncated', async () => {
    expect(await sseEnding(chunks(partial, 512))).toEqual({ kind: 'truncated' });
  });
});
