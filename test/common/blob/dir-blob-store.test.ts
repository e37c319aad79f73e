import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DirBlobStore } from '../../../common/blob/dir-blob-store.ts';
import { blobStoreConformance } from './blob-store-conformance.ts';

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
});
