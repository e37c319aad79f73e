import type { Account } from '../contracts/index.ts';

/** Accounts by API-key hash. Keys themselves are never stored. Implementations: Redis, memory. */
export interface AccountStore {
  put(keyHash: string, account: Account): Promise<void>;
  byKeyHash(keyHash: string): Promise<Account | null>;
  /** Removes one key (the account stays). */
  revoke(keyHash: string): Promise<boolean>;
}
