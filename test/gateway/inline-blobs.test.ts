import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InlineBlobs } from '../../gateway/inline-blobs.ts';

describe('inline blobs', () => {
  it('writes each image as its base64 in place of its stand-in', () => {
    const inline = new InlineBlobs();
    const a = randomBytes(1000);
    const b = randomBytes(7);
    const doc = { created: 1, data: [{ b64_json: inline.add(a) }, { b64_json: inline.add(b) }], note: 'é ✓' };
    const parsed = JSON.parse(inline.json(doc).toString('utf8'));
    expect(parsed).toEqual({
      created: 1,
      data: [{ b64_json: a.toString('base64') }, { b64_json: b.toString('base64') }],
      note: 'é ✓',
    });
  });

  it('frames the document with a prefix and suffix (an SSE event)', () => {
    const inline = new InlineBlobs();
    const img = randomBytes(33);
    const bytes = inline.json({ type: 't', b64_json: inline.add(img) }, 'event: t\ndata: ', '\n\n');
    const text = bytes.toString('utf8');
    expect(text.startsWith('event: t\ndata: {')).toBe(true);
    expect(text.endsWith('}\n\n')).toBe(true);
    expect(JSON.parse(text.slice('event: t\ndata: '.length, -2)).b64_json).toBe(img.toString('base64'));
  });

  it('leaves text that merely looks like a stand-in alone, and uses stand-ins up', () => {
    const inline = new InlineBlobs();
    const standIn = inline.add(randomBytes(4));
    const [, nonceAndIndex] = standIn.split('\u0000');
    // A client string containing the same characters without the NUL, or from another instance.
    const other = new InlineBlobs().json({ x: standIn, y: nonceAndIndex });
    expect(JSON.parse(other.toString('utf8'))).toEqual({ x: standIn, y: nonceAndIndex });
    expect(JSON.parse(inline.json({ a: 1 }).toString('utf8'))).toEqual({ a: 1 });
  });
});
