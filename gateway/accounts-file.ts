import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { AccountsFile } from '../common/contracts/index.ts';
import { ConfigError } from '../common/errors.ts';
import type { Policy } from '../common/policy/schema.ts';
import type { AccountStore } from '../common/store/account-store.ts';
import { hashKey } from './api-keys.ts';

/**
 * Loads SPILLWAY_ACCOUNTS_FILE (a YAML list of {key, tier, lane, account?}) into the account
 * store at start. Tiers and lanes must exist in the policy; errors name the entry.
 */
export async function loadAccountsFile(
  path: string,
  policy: Policy,
  accounts: AccountStore,
): Promise<number> {
  let doc: unknown;
  try {
    doc = parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw new ConfigError('SPILLWAY_ACCOUNTS_FILE', `${path}: ${(err as Error).message}`);
  }
  const parsed = AccountsFile.safeParse(doc ?? []);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new ConfigError('SPILLWAY_ACCOUNTS_FILE', `${path}: entry ${i.path.join('.')}: ${i.message}`);
  }
  const now = Date.now();
  for (const [index, entry] of parsed.data.entries()) {
    if (!policy.tiers[entry.tier]) {
      throw new ConfigError(
        'SPILLWAY_ACCOUNTS_FILE',
        `${path}: entry ${index}: unknown tier "${entry.tier}"`,
      );
    }
    if (!policy.lanes[entry.lane]) {
      throw new ConfigError(
        'SPILLWAY_ACCOUNTS_FILE',
        `${path}: entry ${index}: unknown lane "${entry.lane}"`,
      );
    }
    const keyHash = hashKey(entry.key);
    await accounts.put(keyHash, {
      id: entry.account ?? `acct_${keyHash.slice(0, 20)}`,
      tier: entry.tier,
      lane: entry.lane,
      createdAt: now,
      source: 'file',
      disabled: false,
    });
  }
  return parsed.data.length;
}
