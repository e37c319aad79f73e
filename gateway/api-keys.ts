import { createHash, hash } from 'node:crypto';
import { randomBytesView } from './random-pool.ts';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Uniform over the 62 characters: bytes ≥ 248 are rejected so the modulo has no bias. */
export function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytesView(length * 2)) {
      if (b >= 248) continue;
      out += ALPHANUMERIC[b % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/** Keys are stored, cached and logged only as this hash. */
export function hashKey(key: string): string {
  // One-shot hash: no Hash object per request (every authenticated request hashes its key).
  return hash('sha256', key, 'hex');
}

export function newApiKey(): string {
  return `sk-spw-${randomAlphanumeric(40)}`;
}

export function newAccountId(): string {
  return `acct_${randomAlphanumeric(20)}`;
}

/** A short, stable pseudonym of an account for log lines. */
export function accountTag(accountId: string): string {
  return createHash('sha256').update(accountId).digest('hex').slice(0, 12);
}
