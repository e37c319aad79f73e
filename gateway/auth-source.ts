import type { Account } from '../common/contracts/index.ts';
import type { AccountStore } from '../common/store/account-store.ts';

/** A bearer credential as presented: the token itself and its hash (the only form ever stored). */
export interface Credential {
  token: string;
  hash: string;
}

/**
 * Where the gateway learns which account a credential belongs to. Implementations: the account
 * store, an RFC 7662 introspection endpoint (introspection-auth-source.ts), and a chain of both.
 * null is "no such key"; a rejection is "cannot tell now" (AuthClient answers 503 or from cache).
 */
export interface AuthSource {
  lookup(credential: Credential): Promise<Account | null>;
}

/** Keys provisioned here (accounts file, admin API, sign-up), by hash. */
export class StoreAuthSource implements AuthSource {
  constructor(private readonly accounts: AccountStore) {}

  lookup(credential: Credential) {
    return this.accounts.byKeyHash(credential.hash);
  }
}

/** The first source that knows the credential answers; a failing source fails the look-up. */
export class AuthSourceChain implements AuthSource {
  constructor(private readonly sources: readonly AuthSource[]) {}

  async lookup(credential: Credential) {
    for (const source of this.sources) {
      const account = await source.lookup(credential);
      if (account) return account;
    }
    return null;
  }
}
