/** Where images live (partials, finals, edit inputs). Implementations: DirBlobStore, MemoryBlobStore. */
export interface Blob {
  data: Buffer;
  contentType: string;
}

export interface BlobStore {
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  get(key: string): Promise<Blob | null>;
  delete(key: string): Promise<void>;
  /**
   * Deletes the blobs last written before `now − olderThanMs` and returns how many it deleted.
   * `signal` ends a long sweep early (what it already deleted stays deleted).
   */
  sweep(olderThanMs: number, now: number, signal?: AbortSignal): Promise<number>;
}
