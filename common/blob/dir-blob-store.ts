import { lstat, mkdir, opendir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { SpillwayError } from '../errors.ts';
import type { BlobStore } from './blob-store.ts';

const KEY = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*$/;

/** Beside each blob: its content type (`<file>.type`); in flight: `<file>.<pid>.<ms>.tmp[.type]`. */
const isBlobFile = (name: string) => !name.endsWith('.type') && !name.endsWith('.tmp');

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

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
    try {
      await this.write(file, data, contentType);
    } catch (err) {
      // A sweep removes the directories it empties; one may go between our mkdir and our write.
      if (!isMissing(err)) throw err;
      await this.write(file, data, contentType);
    }
  }

  private async write(file: string, data: Buffer, contentType: string) {
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
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async delete(key: string) {
    const file = this.path(key);
    await rm(file, { force: true });
    await rm(`${file}.type`, { force: true });
  }

  /**
   * Walks the directory one entry at a time (a sweep is background work and must not crowd the
   * file system for the requests) and deletes every file modified before the cutoff: blobs, their
   * type files, and temporaries a crashed write left behind. A directory this emptied goes too.
   */
  async sweep(olderThanMs: number, now: number, signal?: AbortSignal) {
    return (await this.sweepDir(this.root, now - olderThanMs, signal)).deleted;
  }

  private async sweepDir(
    dir: string,
    cutoff: number,
    signal?: AbortSignal,
  ): Promise<{ deleted: number; emptied: boolean }> {
    let deleted = 0;
    let kept = 0;
    try {
      for await (const entry of await opendir(dir)) {
        if (signal?.aborted) return { deleted, emptied: false };
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          const sub = await this.sweepDir(path, cutoff, signal);
          deleted += sub.deleted;
          if (!sub.emptied) kept++;
          continue;
        }
        const removed = await removeIfOlder(path, cutoff);
        if (removed === 'kept') kept++;
        else if (removed === 'removed' && isBlobFile(entry.name)) deleted++;
      }
    } catch (err) {
      if (isMissing(err)) return { deleted, emptied: true };
      throw err;
    }
    if (kept > 0 || dir === this.root) return { deleted, emptied: false };
    // A write may have just added a file: then the directory is not empty and stays.
    const emptied = await rmdir(dir).then(
      () => true,
      () => false,
    );
    return { deleted, emptied };
  }
}

async function removeIfOlder(path: string, cutoff: number): Promise<'removed' | 'kept' | 'gone'> {
  try {
    if ((await lstat(path)).mtimeMs >= cutoff) return 'kept';
    await rm(path, { force: true });
    return 'removed';
  } catch (err) {
    if (isMissing(err)) return 'gone';
    throw err;
  }
}
