import { describe } from 'vitest';
import { MemoryBlobStore } from '../../../common/blob/memory-blob-store.ts';
import { blobStoreConformance } from './blob-store-conformance.ts';

describe('MemoryBlobStore', () => {
  blobStoreConformance(async () => new MemoryBlobStore());
});
