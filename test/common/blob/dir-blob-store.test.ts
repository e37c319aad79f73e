import { mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirBlobStore } from '../../../common/blob/dir-blob-store.ts';
import { blobStoreConformance } from './blob-store-conformance.ts';

const DAY_MS = 86_400_000;

/** Every file and directory under `dir`, relative to it. */
const tree = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();

/** Sets a file's modification time `days` ago. */
const age = (file: string, days: number) => {
  const t = new Date(Date.now() - days * DAY_MS);
  utimesSync(file, t, t);
};

describe('DirBlobStore', () => {
  const root = mkdtempSync(join(tmpdir(), 'spillway-blobs-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  blobStoreConformance(async () => new DirBlobStore(join(root, String(n++))));

  it('refuses keys that would escape its directory', async () => {
    const store = new DirBlobStore(join(root, 'escape'));
    await expect(store.put('../x', Buffer.from('x'), 'text/plain')).rejects.toMatchObject({
      code: 'blob_key_invalid',
    });
    await expect(store.get('/etc/passwd')).rejects.toMatchObject({ code: 'blob_key_invalid' });
  });

  describe('sweep', () => {
    it('deletes old blobs with their type files and crashed writes’ temporaries, then the emptied directories', async () => {
      const dir = join(root, 'sweep-all');
      const store = new DirBlobStore(dir);
      await store.put('jobs/a/image-0.png', Buffer.from('a0'), 'image/png');
      await store.put('jobs/a/partial-0.png', Buffer.from('p0'), 'image/png');
      await store.put('inputs/b/0', Buffer.from('in'), 'image/webp');
      mkdirSync(join(dir, 'jobs/c'), { recursive: true });
      writeFileSync(join(dir, 'jobs/c/image-0.png.123.456.tmp'), 'half');
      for (const f of tree(dir)) if (f.includes('.')) age(join(dir, f), 9);
      age(join(dir, 'inputs/b/0'), 9);

      expect(await store.sweep(8 * DAY_MS, Date.now())).toBe(3);
      expect(tree(dir)).toEqual([]);
      // The store's own directory stays, and takes new blobs.
      await store.put('jobs/a/image-0.png', Buffer.from('new'), 'image/png');
      expect((await store.get('jobs/a/image-0.png'))?.data).toEqual(Buffer.from('new'));
    });

    it('keeps a directory that still holds a young file', async () => {
      const dir = join(root, 'sweep-some');
      const store = new DirBlobStore(dir);
      await store.put('jobs/a/old.png', Buffer.from('o'), 'image/png');
      await store.put('jobs/a/new.png', Buffer.from('n'), 'image/png');
      age(join(dir, 'jobs/a/old.png'), 9);
      age(join(dir, 'jobs/a/old.png.type'), 9);
      expect(await store.sweep(8 * DAY_MS, Date.now())).toBe(1);
      expect(tree(dir)).toEqual(['jobs', 'jobs/a', 'jobs/a/new.png', 'jobs/a/new.png.type']);
    });

    it('stops when told to, and sweeps a directory never written to as empty', async () => {
      const dir = join(root, 'sweep-stop');
      const store = new DirBlobStore(dir);
      expect(await store.sweep(DAY_MS, Date.now())).toBe(0);
      await store.put('jobs/a/old.png', Buffer.from('o'), 'image/png');
      for (const f of tree(dir)) age(join(dir, f), 9);
      const stop = new AbortController();
      stop.abort();
      expect(await store.sweep(DAY_MS, Date.now(), stop.signal)).toBe(0);
      expect(await store.get('jobs/a/old.png')).not.toBeNull();
    });
  });
});
