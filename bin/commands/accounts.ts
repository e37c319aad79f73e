import { parseArgs } from 'node:util';
import { loadPolicyDir } from '../../common/policy/loader.ts';
import { readAccountsFile } from '../../gateway/accounts-file.ts';

const USAGE = `usage: spillway accounts check <file> [--policy DIR]
  checks a provisioning file (SPILLWAY_ACCOUNTS_FILE) against the policy's tiers and lanes (default
  policies) as a gateway would at start: every problem as file:line:col: rule: message, exit 1
`;

/** `spillway accounts check`: ops validate a provisioning file before a gateway restart reads it. */
export async function run(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { policy: { type: 'string', default: 'policies' }, help: { type: 'boolean', short: 'h' } },
  });
  const [sub, file, ...rest] = positionals;
  if (values.help || sub !== 'check' || !file || rest.length > 0) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  const { policy } = await loadPolicyDir(values.policy);
  const entries = await readAccountsFile(file, policy);
  const byTier = new Map<string, number>();
  for (const e of entries) byTier.set(`${e.lane}/${e.tier}`, (byTier.get(`${e.lane}/${e.tier}`) ?? 0) + 1);
  const counts = [...byTier].map(([k, n]) => `${k} ${n}`).join(', ');
  process.stdout.write(`ok: ${entries.length} accounts${counts ? ` (${counts})` : ''}\n`);
  return 0;
}
