import { describe } from 'vitest';
import { MemoryJobStore } from '../../../common/store/memory-job-store.ts';
import { jobStoreConformance } from './job-store-conformance.ts';

describe('MemoryJobStore', () => {
  jobStoreConformance(async () => new MemoryJobStore());
});
