import type { Account } from '../contracts/index.ts';
import type { AccountStore } from './account-store.ts';
import { plainCopy } from '../plain-copy.ts';

export class MemoryAccountStore implements AccountStore {
  private readonly byHash = new Map<string, Account>();

  async put(keyHash: string, account: Account) {
    this.byHash.set(keyHash, plainCopy(account));
  }

  async byKeyHash(keyHash: string) {
    const a = this.byHash.get(keyHash);
    return a ? plainCopy(a) : null;
  }

  async revoke(keyHash: string) {
    return this.byHash.delete(keyHash);
  }
}
