import { describe } from 'vitest';
import { MemoryCoordinationStore } from '../../../common/store/memory-coordination-store.ts';
import { coordinationStoreConformance } from './coordination-store-conformance.ts';

describe('MemoryCoordinationStore', () => {
  coordinationStoreConformance(async () => new MemoryCoordinationStore());
});
