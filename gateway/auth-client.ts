import type { Account } from '../common/contracts/index.ts';
import type { AuthSource, Credential } from './auth-source.ts';

export interface AuthCacheOptions {
  ttlMs: number;
  negativeTtlMs: number;
  maxEntries: number;
}

export const DEFAULT_AUTH_CACHE: AuthCacheOptions = {
  ttlMs: 30_000,
  negativeTtlMs: 5_000,
  maxEntries: 100_000,
};

interface Entry {
  account: Account | null;
  expiresAt: number;
}

/** Auth health since the last `drainStats`, for the gateway's saturation signal. */
export interface AuthStats {
  lookups: number;
  hits: number;
  errors: number;
  latencyMsAvg: number;
}

/**
 * Key look-ups with an in-process cache so a slow auth store does not stall the front door:
 * positive and negative entries expire, concurrent look-ups of one key share one call
 * (single-flight), and a failing source is answered from an expired entry when there is one.
 */
export class AuthClient {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<Account | null>>();
  private stats = { lookups: 0, hits: 0, errors: 0, sourceCalls: 0, sourceMs: 0 };
  /** Hook for metrics: called once per look-up with where the answer came from. */
  observe: (result: 'hit' | 'miss' | 'error') => void = () => {};

  constructor(
    private readonly source: AuthSource,
    private readonly options: AuthCacheOptions = DEFAULT_AUTH_CACHE,
  ) {}

  /**
   * Resolves the account or null; rejects only when the source fails and nothing is cached. The
   * cache is keyed by the credential's hash, never by the token.
   */
  async resolve(credential: Credential, now: number): Promise<Account | null> {
    const keyHash = credential.hash;
    this.stats.lookups++;
    const hit = this.cache.get(keyHash);
    if (hit && hit.expiresAt > now) {
      this.stats.hits++;
      this.observe('hit');
      return hit.account;
    }
    this.observe('miss');
    let pending = this.inflight.get(keyHash);
    if (!pending) {
      pending = this.fetch(credential, hit ?? null);
      this.inflight.set(keyHash, pending);
    }
    return pending;
  }

  /** Drops a cached key (a revoked key on this gateway stops at once; on others after the ttl). */
  forget(keyHash: string): void {
    this.cache.delete(keyHash);
  }

  drainStats(): AuthStats {
    const s = this.stats;
    this.stats = { lookups: 0, hits: 0, errors: 0, sourceCalls: 0, sourceMs: 0 };
    return {
      lookups: s.lookups,
      hits: s.hits,
      errors: s.errors,
      latencyMsAvg: s.sourceCalls > 0 ? s.sourceMs / s.sourceCalls : 0,
    };
  }

  private async fetch(credential: Credential, stale: Entry | null): Promise<Account | null> {
    const keyHash = credential.hash;
    const started = performance.now();
    try {
      const account = await this.source.lookup(credential);
      const ttl = account && !account.disabled ? this.options.ttlMs : this.options.negativeTtlMs;
      // A credential with an end (an introspected token's exp) is not served from cache past it.
      const end = account?.credentialExpiresAt ?? Number.POSITIVE_INFINITY;
      this.store(keyHash, {
        account: account && !account.disabled ? account : null,
        expiresAt: Math.min(Date.now() + ttl, end),
      });
      return account && !account.disabled ? account : null;
    } catch (err) {
      this.stats.errors++;
      this.observe('error');
      // Stale beats a 503, but never past the credential's own end.
      if (stale && (stale.account?.credentialExpiresAt ?? Number.POSITIVE_INFINITY) > Date.now())
        return stale.account;
      throw err;
    } finally {
      this.stats.sourceCalls++;
      this.stats.sourceMs += performance.now() - started;
      this.inflight.delete(keyHash);
    }
  }

  private store(keyHash: string, entry: Entry) {
    if (this.cache.size >= this.options.maxEntries) {
      // Maps iterate in insertion order: dropping the first entry drops the oldest.
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.delete(keyHash);
    this.cache.set(keyHash, entry);
  }
}
