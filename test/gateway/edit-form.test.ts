import { afterEach, describe, expect, it, vi } from 'vitest';
import { countParts, readEditForm } from '../../gateway/edit-form.ts';
import { testPolicy } from './support/harness.ts';

/** A multipart body as a client sends it, with the content type naming its boundary. */
async function encoded(form: FormData): Promise<{ bytes: Uint8Array; type: string }> {
  const req = new Request('http://x.test/', { method: 'POST', body: form });
  return { bytes: new Uint8Array(await req.arrayBuffer()), type: req.headers.get('content-type') ?? '' };
}

describe('edit form', () => {
  afterEach(() => vi.restoreAllMocks());

  it('counts the parts of a body from its boundary, quoted or not, before parsing', async () => {
    for (const n of [1, 2, 17, 300]) {
      const form = new FormData();
      for (let i = 0; i < n; i++) {
        if (i % 2) form.append(`f${i}`, 'v');
        else form.append(`f${i}`, new Blob(['x\r\n--not-it']), 'a.png');
      }
      const { bytes, type } = await encoded(form);
      expect(countParts(bytes, type)).toBe(n);
      const boundary = /boundary=(.+)$/.exec(type)![1];
      expect(countParts(bytes, `multipart/form-data; boundary="${boundary}"`)).toBe(n);
    }
    expect(countParts(new TextEncoder().encode('--zzz\r\n\r\nabc'), 'multipart/form-data')).toBe(0);
  });

  it('refuses too many parts without parsing the body', async () => {
    const policy = (await testPolicy()).policy;
    const form = new FormData();
    for (let i = 0; i < policy.limits.maxParts * 50; i++) form.append(`extra${i}`, 'v');
    const { bytes, type } = await encoded(form);
    const parse = vi.spyOn(Response.prototype, 'formData');
    const req = new Request('http://x.test/', {
      method: 'POST',
      headers: { 'content-type': type },
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    await expect(readEditForm(req, policy)).rejects.toMatchObject({
      status: 400,
      code: 'too_many_parts',
    });
    expect(parse).not.toHaveBeenCalled();
  });
});
