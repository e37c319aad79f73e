import { createHash, randomInt } from 'node:crypto';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function randomAlphanumeric(length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return out;
}

/** Keys are stored, cached and logged only as this hash. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
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
