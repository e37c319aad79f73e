import { describe } from 'vitest';
import { MemoryQueue } from '../../../common/queue/memory-queue.ts';
import { queueConformance } from './queue-conformance.ts';

describe('MemoryQueue', () => {
  queueConformance(async () => new MemoryQueue());
});
