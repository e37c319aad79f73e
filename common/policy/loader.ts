import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SpillwayError } from '../errors.ts';
import { type ActivePolicy, Policy } from './schema.ts';

// MINIMAL LOADER (foundation): parses and merges the directory and validates the result.
// The policies issue replaces it with file/line/column errors, semantic checks and hot reload.

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Maps merge key by key; lists and scalars of a later file replace earlier ones. */
export function mergePolicyDocs(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = mergePolicyDocs(base[k], v);
  return out;
}

export async function loadPolicyDir(dir: string): Promise<ActivePolicy> {
  const names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  if (names.length === 0) throw new SpillwayError('policy_empty', `${dir}: no policy files (*.yaml)`);
  let merged: unknown = {};
  const files: ActivePolicy['files'] = [];
  const hash = createHash('sha256');
  for (const name of names) {
    const path = join(dir, name);
    const text = await readFile(path, 'utf8');
    files.push({ path, sha256: createHash('sha256').update(text).digest('hex') });
    hash.update(name).update('\0').update(text).update('\0');
    merged = mergePolicyDocs(merged, parse(text) ?? {});
  }
  const parsed = Policy.safeParse(merged);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new SpillwayError('policy_invalid', `${dir}: ${i.path.join('.')}: ${i.message}`);
  }
  return { policy: parsed.data, version: hash.digest('hex').slice(0, 12), files, loadedAt: Date.now() };
}
