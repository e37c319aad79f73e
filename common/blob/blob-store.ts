/** Where images live (partials, finals, edit inputs). Implementations: DirBlobStore, MemoryBlobStore. */
export interface Blob {
  data: Buffer;
  contentType: string;
}

export interface BlobStore {
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  get(key: string): Promise<Blob | null>;
  delete(key: string): Promise<void>;
}
