import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { SpillwayError } from '../errors.ts';
import type { BlobStore } from './blob-store.ts';

const KEY = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*$/;

/**
 * Images as files under one directory (shared by the processes of one machine). Writes go to a
 * temporary name and are renamed, so a reader never sees half an image.
 */
export class DirBlobStore implements BlobStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    if (!KEY.test(key) || key.includes('..'))
      throw new SpillwayError('blob_key_invalid', `invalid blob key ${key}`);
    return join(this.root, key);
  }

  async put(key: string, data: Buffer, contentType: string) {
    const file = this.path(key);
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, data);
    await writeFile(`${tmp}.type`, contentType);
    await rename(`${tmp}.type`, `${file}.type`);
    await rename(tmp, file);
  }

  async get(key: string) {
    const file = this.path(key);
    try {
      const [data, contentType] = await Promise.all([readFile(file), readFile(`${file}.type`, 'utf8')]);
      return { data, contentType };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async delete(key: string) {
    const file = this.path(key);
    await rm(file, { force: true });
    await rm(`${file}.type`, { force: true });
  }
}
