import type { Blob, BlobStore } from './blob-store.ts';

export interface MemoryBlobStoreOptions {
  /** Clock that stamps each put; tests pass a fake one. */
  now?: () => number;
}

export class MemoryBlobStore implements BlobStore {
  /** In the order last written (a put re-inserts), so a sweep stops at the first blob it keeps. */
  private readonly blobs = new Map<string, Blob & { writtenAt: number }>();
  private readonly clock: () => number;

  constructor(options: MemoryBlobStoreOptions = {}) {
    this.clock = options.now ?? Date.now;
  }

  async put(key: string, data: Buffer, contentType: string) {
    this.blobs.delete(key);
    this.blobs.set(key, { data: Buffer.from(data), contentType, writtenAt: this.clock() });
  }

  async get(key: string) {
    const b = this.blobs.get(key);
    return b ? { data: Buffer.from(b.data), contentType: b.contentType } : null;
  }

  async delete(key: string) {
    this.blobs.delete(key);
  }

  async sweep(olderThanMs: number, now: number) {
    const cutoff = now - olderThanMs;
    let deleted = 0;
    for (const [key, b] of this.blobs) {
      if (b.writtenAt >= cutoff) break;
      this.blobs.delete(key);
      deleted++;
    }
    return deleted;
  }

  /** How many blobs are held, for tests that sweeps forget. */
  size() {
    return this.blobs.size;
  }
}
