import { describe } from 'vitest';
import { MemoryEventLog } from '../../../common/store/memory-event-log.ts';
import { eventLogConformance } from './event-log-conformance.ts';

describe('MemoryEventLog', () => {
  eventLogConformance(async () => new MemoryEventLog());
});
