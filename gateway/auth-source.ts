import type { Account } from '../common/contracts/index.ts';
import type { AccountStore } from '../common/store/account-store.ts';

/**
 * Where the gateway learns which account a key hash belongs to. Implementations: the account
 * store (this file) and, optionally, an RFC 7662 introspection endpoint (introspection-auth-source.ts).
 */
export interface AuthSource {
  lookup(keyHash: string): Promise<Account | null>;
}

export class StoreAuthSource implements AuthSource {
  constructor(private readonly accounts: AccountStore) {}

  lookup(keyHash: string) {
    return this.accounts.byKeyHash(keyHash);
  }
}
