import type { BlobStore } from './blob/blob-store.ts';
import { MemoryBlobStore } from './blob/memory-blob-store.ts';
import type { Infra } from './infra.ts';
import { MemoryQueue } from './queue/memory-queue.ts';
import { MemoryAccountStore } from './store/memory-account-store.ts';
import { MemoryCoordinationStore } from './store/memory-coordination-store.ts';
import { MemoryEventLog } from './store/memory-event-log.ts';
import { MemoryJobStore } from './store/memory-job-store.ts';

/** The embedded mode's adapters: everything in this process. */
export function createMemoryInfra(blobs: BlobStore = new MemoryBlobStore()): Infra {
  return {
    mode: 'embedded',
    queue: new MemoryQueue(),
    jobs: new MemoryJobStore(),
    events: new MemoryEventLog(),
    accounts: new MemoryAccountStore(),
    coord: new MemoryCoordinationStore(),
    blobs,
    redis: null,
    close: async () => {},
  };
}
