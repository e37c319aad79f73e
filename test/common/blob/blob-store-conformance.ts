import { setTimeout as sleep } from 'node:timers/promises';
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

    it('sweeps the blobs last written before now − olderThan and keeps the rest', async () => {
      const store = await makeStore();
      const day = 86_400_000;
      await store.put('jobs/old/final.png', Buffer.from('o'), 'image/png');
      await store.put('rewritten', Buffer.from('1'), 'text/plain');
      await store.put('top-level', Buffer.from('t'), 'text/plain');
      // Wide gaps around the cutoff: file systems stamp times with a coarse clock.
      await sleep(100);
      const cutoff = Date.now();
      await sleep(100);
      await store.put('jobs/new/final.png', Buffer.from('n'), 'image/png');
      await store.put('rewritten', Buffer.from('2'), 'text/plain');
      expect(await store.sweep(day, cutoff - day)).toBe(0);
      expect(await store.sweep(day, cutoff + day)).toBe(2);
      expect(await store.get('jobs/old/final.png')).toBeNull();
      expect(await store.get('top-level')).toBeNull();
      expect(await store.get('jobs/new/final.png')).toEqual({
        data: Buffer.from('n'),
        contentType: 'image/png',
      });
      expect((await store.get('rewritten'))?.data).toEqual(Buffer.from('2'));
      expect(await store.sweep(day, cutoff + day)).toBe(0);
      await store.put('jobs/old/final.png', Buffer.from('again'), 'image/png');
      expect((await store.get('jobs/old/final.png'))?.data).toEqual(Buffer.from('again'));
    });
  });
}
