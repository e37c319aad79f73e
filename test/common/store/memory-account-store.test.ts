import { describe } from 'vitest';
import { MemoryAccountStore } from '../../../common/store/memory-account-store.ts';
import { accountStoreConformance } from './account-store-conformance.ts';

describe('MemoryAccountStore', () => {
  accountStoreConformance(async () => new MemoryAccountStore());
});
