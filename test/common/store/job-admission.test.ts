import { describe } from 'vitest';
import { MemoryEventLog } from '../../../common/store/memory-event-log.ts';
import { MemoryJobStore } from '../../../common/store/memory-job-store.ts';
import { jobAdmissionConformance } from './job-admission-conformance.ts';

describe('admitJob on memory stores (three calls)', () => {
  jobAdmissionConformance(async () => ({ jobs: new MemoryJobStore(), events: new MemoryEventLog() }));
});
