import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SpillwayError } from '../errors.ts';
import { type PolicyIssue, PolicyError } from './policy-issue.ts';
import { checkPolicy } from './semantic-checks.ts';
import { isPlainObject, shadowedFiles } from './shadowing.ts';
import { type ActivePolicy, Policy, PolicyFile } from './schema.ts';
import { locate, parseYamlText, schemaIssues } from './source-map.ts';

/*
 * How a policy directory becomes the active policy:
 * 1. Files: every `*.yaml` / `*.yml` directly in the directory whose name does not start with a dot
 *    (editor swap and lock files), read in file-name order (plain code-point order: use prefixes
 *    such as 10-base.yaml, 50-launch.yaml). Sub-directories (e.g. examples/) are not read.
 * 2. Each file must be valid YAML and valid against PolicyFile (every field optional).
 * 3. Merge in that order: maps merge key by key, lists and scalars of a later file replace the
 *    earlier value whole (so a later `rollout:` list replaces, never appends).
 * 4. The merge must be a complete Policy and pass the semantic checks (semantic-checks.ts).
 * Any failure refuses the whole set; callers keep the last good policy. Errors name file:line:col,
 * found by mapping the failing path back to the file the value came from.
 */

export interface PolicyText {
  path: string;
  text: string;
}

export type CompileResult = { ok: true; active: ActivePolicy } | { ok: false; issues: PolicyIssue[] };

const POLICY_FILE = /^[^.].*\.ya?ml$/;

/** Maps merge key by key; lists and scalars of a later file replace earlier ones. */
export function mergePolicyDocs(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergePolicyDocs(base[k], v);
  return out;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Key-order-independent JSON, so reordering or reformatting a file keeps the version. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Pure: texts in merge order → the active policy, or every issue found. */
export function compilePolicy(texts: PolicyText[], now = Date.now()): CompileResult {
  const parsed = texts.map((t) => parseYamlText(t.text, t.path));
  const yamlIssues = parsed.flatMap((p) => p.issues);
  if (yamlIssues.length > 0) return { ok: false, issues: yamlIssues };
  const files = parsed.map((p) => p.file);

  const fileIssues: PolicyIssue[] = [];
  const docs: unknown[] = [];
  for (const file of files) {
    const raw = file.doc.toJS() ?? {};
    const result = PolicyFile.safeParse(raw);
    if (!result.success) fileIssues.push(...schemaIssues(result.error, [file]));
    docs.push(raw);
  }
  if (fileIssues.length > 0) return { ok: false, issues: fileIssues };

  const merged = docs.reduce<unknown>((acc, d) => mergePolicyDocs(acc, d), {});
  const result = Policy.safeParse(merged);
  if (!result.success) return { ok: false, issues: schemaIssues(result.error, files) };

  const semantic = checkPolicy(result.data).map((i) => {
    const place = locate(files, i.path, i.atKey) ?? { file: files.at(-1)?.path ?? '', line: 0, column: 0 };
    return { ...place, rule: i.rule, message: i.message, path: i.path.join('.') };
  });
  if (semantic.length > 0) return { ok: false, issues: semantic };

  return {
    ok: true,
    active: {
      policy: result.data,
      version: sha256(canonical(merged)).slice(0, 12),
      files: texts.map((t) => ({ path: t.path, sha256: sha256(t.text) })),
      loadedAt: now,
      warnings: shadowedFiles(files, docs),
    },
  };
}

/** The policy files of a directory, in merge order, with their text. */
export async function readPolicyDir(dir: string): Promise<PolicyText[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => POLICY_FILE.test(n)).sort();
  } catch (err) {
    throw new SpillwayError('policy_dir_unreadable', `${dir}: ${(err as Error).message}`, { dir });
  }
  return readPolicyFiles(names.map((n) => join(dir, n)));
}

export async function readPolicyFiles(paths: string[]): Promise<PolicyText[]> {
  return Promise.all(paths.map(async (path) => ({ path, text: await readFile(path, 'utf8') })));
}

function activate(texts: PolicyText[], where: string): ActivePolicy {
  if (texts.length === 0) {
    const issue = {
      file: where,
      line: 0,
      column: 0,
      rule: 'no-files',
      message: 'no policy files (*.yaml)',
      path: '',
    };
    throw new PolicyError([issue]);
  }
  const result = compilePolicy(texts);
  if (!result.ok) throw new PolicyError(result.issues);
  return result.active;
}

/** Loads and validates a policy directory; throws PolicyError naming file:line:col. */
export async function loadPolicyDir(dir: string): Promise<ActivePolicy> {
  return activate(await readPolicyDir(dir), dir);
}

/** Loads an explicit file list, merged in the order given (e.g. an example on its own). */
export async function loadPolicyFiles(paths: string[]): Promise<ActivePolicy> {
  return activate(await readPolicyFiles(paths), paths.join(', '));
}
