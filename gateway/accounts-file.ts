import { readFile } from 'node:fs/promises';
import { AccountsFile, type ProvisionedKey } from '../common/contracts/index.ts';
import { ConfigError } from '../common/errors.ts';
import { formatIssue, type PolicyIssue } from '../common/policy/policy-issue.ts';
import type { Policy } from '../common/policy/schema.ts';
import { locate, type ParsedFile, parseYamlText, schemaIssues } from '../common/policy/source-map.ts';
import type { AccountStore } from '../common/store/account-store.ts';
import { hashKey } from './api-keys.ts';

/**
 * Loads SPILLWAY_ACCOUNTS_FILE (a YAML list of {key, tier, lane, account?}) into the account
 * store at start. The whole file is checked before any account is stored: tiers and lanes must
 * exist in the policy, and a key may appear once (two entries for one key would leave its tier to
 * file order). Every problem is reported as file:line:col: rule: message.
 */
export async function loadAccountsFile(
  path: string,
  policy: Policy,
  accounts: AccountStore,
): Promise<number> {
  const entries = await readAccountsFile(path, policy);
  const now = Date.now();
  for (const entry of entries) {
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
  return entries.length;
}

/** The file's checked entries (see checkAccountsFile); an unreadable file is a ConfigError too. */
export async function readAccountsFile(path: string, policy: Policy): Promise<ProvisionedKey[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError('SPILLWAY_ACCOUNTS_FILE', `${path}: ${(err as Error).message}`);
  }
  return checkAccountsFile(text, path, policy);
}

/** The file's entries, or a ConfigError naming every problem in it. */
export function checkAccountsFile(text: string, path: string, policy: Policy): ProvisionedKey[] {
  const { file, issues } = parseYamlText(text, path);
  if (issues.length > 0) throw accountsError(issues);
  const parsed = AccountsFile.safeParse(file.doc.toJS() ?? []);
  if (!parsed.success) throw accountsError(schemaIssues(parsed.error, [file]));
  const problems: PolicyIssue[] = [];
  const firstOfKey = new Map<string, number>();
  for (const [index, entry] of parsed.data.entries()) {
    if (!policy.tiers[entry.tier])
      problems.push(entryIssue(file, index, 'tier', `unknown tier "${entry.tier}" (${known(policy.tiers)})`));
    if (!policy.lanes[entry.lane])
      problems.push(entryIssue(file, index, 'lane', `unknown lane "${entry.lane}" (${known(policy.lanes)})`));
    const first = firstOfKey.get(entry.key);
    if (first !== undefined)
      problems.push(entryIssue(file, index, 'key', `the key of entry ${first} again: each key once`));
    else firstOfKey.set(entry.key, index);
  }
  if (problems.length > 0)
    throw accountsError(problems.sort((a, b) => a.line - b.line || a.column - b.column));
  return parsed.data;
}

function known(names: Record<string, unknown>): string {
  return Object.keys(names).join(', ');
}

/** A problem with one field of entry `index`, at that field's value; never quotes a key. */
function entryIssue(file: ParsedFile, index: number, field: string, message: string): PolicyIssue {
  const place = locate([file], [index, field]) ?? { file: file.path, line: 0, column: 0 };
  return {
    ...place,
    rule: `entry/${field}`,
    message: `entry ${index}: ${message}`,
    path: `${index}.${field}`,
  };
}

function accountsError(issues: PolicyIssue[]): ConfigError {
  return new ConfigError('SPILLWAY_ACCOUNTS_FILE', issues.map(formatIssue).join('\n'));
}
