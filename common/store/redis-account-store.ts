import type { Redis } from 'ioredis';
import type { Account } from '../contracts/index.ts';
import type { AccountStore } from './account-store.ts';

/** Accounts by API-key hash, one JSON string per key hash. */
export class RedisAccountStore implements AccountStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'spillway:',
  ) {}

  private key(keyHash: string) {
    return `${this.prefix}account:${keyHash}`;
  }

  async put(keyHash: string, account: Account) {
    await this.redis.set(this.key(keyHash), JSON.stringify(account));
  }

  async byKeyHash(keyHash: string) {
    const raw = await this.redis.get(this.key(keyHash));
    return raw ? (JSON.parse(raw) as Account) : null;
  }

  async revoke(keyHash: string) {
    return (await this.redis.del(this.key(keyHash))) > 0;
  }
}
