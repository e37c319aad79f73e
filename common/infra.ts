import type { BlobStore } from './blob/blob-store.ts';
import type { Queue } from './queue/queue.ts';
import type { AccountStore } from './store/account-store.ts';
import type { CoordinationStore } from './store/coordination-store.ts';
import type { EventLog } from './store/event-log.ts';
import type { JobStore } from './store/job-store.ts';

/**
 * Every adapter a service may need, built once per process by the composition root
 * (memory adapters in embedded mode, Redis + Kafka + a directory in distributed mode).
 */
export interface Infra {
  mode: 'embedded' | 'distributed';
  queue: Queue;
  jobs: JobStore;
  events: EventLog;
  accounts: AccountStore;
  coord: CoordinationStore;
  blobs: BlobStore;
  /** The ioredis client for rate-limiter-flexible (distributed mode only). */
  redis: import('ioredis').Redis | null;
  close(): Promise<void>;
}
