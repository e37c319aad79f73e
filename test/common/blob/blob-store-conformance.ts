import { describe, expect, it } from 'vitest';
import type { BlobStore } from '../../../common/blob/blob-store.ts';

/** The BlobStore contract, run against the memory and directory implementations. */
export function blobStoreConformance(makeStore: () => Promise<BlobStore>) {
  describe('BlobStore', () => {
    it('round-trips bytes and content type, overwrites, and deletes', async () => {
      const store = await makeStore();
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 255]);
      expect(await store.get('jobs/a/final.png')).toBeNull();
      await store.put('jobs/a/final.png', png, 'image/png');
      expect(await store.get('jobs/a/final.png')).toEqual({ data: png, contentType: 'image/png' });
      await store.put('jobs/a/final.png', Buffer.from('x'), 'image/webp');
      expect(await store.get('jobs/a/final.png')).toEqual({
        data: Buffer.from('x'),
        contentType: 'image/webp',
      });
      await store.delete('jobs/a/final.png');
      expect(await store.get('jobs/a/final.png')).toBeNull();
      await store.delete('jobs/a/final.png');
    });

    it('hands out copies: changing a buffer after put or get changes nothing stored', async () => {
      const store = await makeStore();
      const data = Buffer.from([1, 2, 3]);
      await store.put('k1', data, 'application/octet-stream');
      data[0] = 9;
      const got = await store.get('k1');
      got!.data[1] = 9;
      expect((await store.get('k1'))?.data).toEqual(Buffer.from([1, 2, 3]));
    });
  });
}
