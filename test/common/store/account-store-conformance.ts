import { describe, expect, it } from 'vitest';
import type { Account } from '../../../common/contracts/index.ts';
import type { AccountStore } from '../../../common/store/account-store.ts';

const account: Account = {
  id: 'acct_1',
  tier: 'plus',
  lane: 'api',
  createdAt: 1,
  source: 'admin',
  disabled: false,
};

/** The AccountStore contract, run against the memory and Redis implementations. */
export function accountStoreConformance(makeStore: () => Promise<AccountStore>) {
  describe('AccountStore', () => {
    it('finds an account by key hash, replaces it on put, and revokes one key', async () => {
      const store = await makeStore();
      expect(await store.byKeyHash('h1')).toBeNull();
      await store.put('h1', account);
      await store.put('h2', account);
      expect(await store.byKeyHash('h1')).toEqual(account);
      await store.put('h1', { ...account, tier: 'pro' });
      expect((await store.byKeyHash('h1'))?.tier).toBe('pro');
      expect(await store.revoke('h1')).toBe(true);
      expect(await store.revoke('h1')).toBe(false);
      expect(await store.byKeyHash('h1')).toBeNull();
      expect(await store.byKeyHash('h2')).toEqual(account);
    });
  });
}
