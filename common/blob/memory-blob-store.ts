import type { Blob, BlobStore } from './blob-store.ts';

export class MemoryBlobStore implements BlobStore {
  private readonly blobs = new Map<string, Blob>();

  async put(key: string, data: Buffer, contentType: string) {
    this.blobs.set(key, { data: Buffer.from(data), contentType });
  }

  async get(key: string) {
    const b = this.blobs.get(key);
    return b ? { data: Buffer.from(b.data), contentType: b.contentType } : null;
  }

  async delete(key: string) {
    this.blobs.delete(key);
  }
}
