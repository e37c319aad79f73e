import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SCHEMA_FILE_NAME, policyJsonSchemaText } from '../../common/policy/json-schema.ts';
import { loadPolicyDir, loadPolicyFiles } from '../../common/policy/loader.ts';
import { formatIssue, PolicyError } from '../../common/policy/policy-issue.ts';
import { describePolicyDiff } from '../../common/policy/policy-diff.ts';
import { explainPolicy, type Operation } from '../../common/policy/policy-explain.ts';
import type { ActivePolicy } from '../../common/policy/schema.ts';

const DEFAULT_DIR = 'policies';

const USAGE = `usage: spillway policy <command>
  check [--strict] [dir | file.yaml…] validate (default ${DEFAULT_DIR}); prints file:line:col: rule: message;
                                      warnings (a file with no effect) fail only with --strict
  diff <dirA> <dirB>                  what changes from A to B, per tier (and B's warnings)
  explain --lane L --tier T --op generate|edit [dir]
                                      the limits, brownout steps and gates that apply
  schema [--out file] [--check]       write (or verify) ${DEFAULT_DIR}/${SCHEMA_FILE_NAME}
  simulate <campaign> --policy DIR    what-if: the launch simulator driven by that policy
`;

/** A directory, or one or more files merged in the order given. */
async function load(targets: string[]): Promise<ActivePolicy> {
  if (targets.length === 1 && (await stat(targets[0])).isDirectory()) return loadPolicyDir(targets[0]);
  return loadPolicyFiles(targets);
}

/** A policy's warnings, one `warning: file:line:col: rule: message` line each; how many. */
function printWarnings(active: ActivePolicy): number {
  const warnings = active.warnings ?? [];
  for (const w of warnings) process.stdout.write(`warning: ${formatIssue(w)}\n`);
  return warnings.length;
}

function printIssues(err: unknown): number {
  if (!(err instanceof PolicyError)) throw err;
  for (const issue of err.issues) process.stdout.write(`${formatIssue(issue)}\n`);
  return 1;
}

async function check(args: string[]): Promise<number> {
  const strict = args.includes('--strict');
  const rest = args.filter((a) => a !== '--strict');
  const targets = rest.length > 0 ? rest : [DEFAULT_DIR];
  try {
    const active = await load(targets);
    const warned = printWarnings(active);
    if (strict && warned > 0) {
      process.stdout.write(`refused (--strict): ${warned} warning(s)\n`);
      return 1;
    }
    process.stdout.write(`ok: policy ${active.version} (${active.files.map((f) => f.path).join(', ')})\n`);
    return 0;
  } catch (err) {
    return printIssues(err);
  }
}

async function diff(args: string[]): Promise<number> {
  if (args.length !== 2) {
    process.stderr.write(USAGE);
    return 2;
  }
  try {
    const [a, b] = [await load([args[0]]), await load([args[1]])];
    printWarnings(b);
    const lines = describePolicyDiff(a.policy, b.policy);
    process.stdout.write(`${a.version} → ${b.version}\n`);
    process.stdout.write(lines.length === 0 ? 'no change\n' : `${lines.map((l) => `  ${l}`).join('\n')}\n`);
    return 0;
  } catch (err) {
    return printIssues(err);
  }
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const value = args[i + 1];
  args.splice(i, 2);
  return value;
}

async function explain(args: string[]): Promise<number> {
  const rest = [...args];
  const lane = flag(rest, '--lane');
  const tier = flag(rest, '--tier');
  const op = flag(rest, '--op') ?? 'generate';
  if (!lane || !tier || (op !== 'generate' && op !== 'edit') || rest.length > 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  try {
    const active = await load([rest[0] ?? DEFAULT_DIR]);
    printWarnings(active);
    const lines = explainPolicy(active.policy, lane, tier, op as Operation, active.version);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  } catch (err) {
    return printIssues(err);
  }
}

async function schema(args: string[]): Promise<number> {
  const rest = [...args];
  const out = flag(rest, '--out') ?? join(DEFAULT_DIR, SCHEMA_FILE_NAME);
  const text = policyJsonSchemaText();
  if (rest.includes('--check')) {
    const current = await readFile(out, 'utf8').catch(() => '');
    if (current === text) return 0;
    process.stdout.write(`${out}: stale; run \`spillway policy schema\`\n`);
    return 1;
  }
  await writeFile(out, text);
  process.stdout.write(`wrote ${out}\n`);
  return 0;
}

/** What-if for ops before they ship a policy: the launch simulator run on `--policy DIR`. */
async function simulate(args: string[]): Promise<number> {
  const { run } = await import('./simulate.ts');
  return run(args);
}

const SUBCOMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  check,
  diff,
  explain,
  schema,
  simulate,
};

export async function run(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  const sub = name ? SUBCOMMANDS[name] : undefined;
  if (!sub) {
    process.stderr.write(USAGE);
    return name === '--help' || name === '-h' ? 0 : 2;
  }
  return sub(rest);
}
