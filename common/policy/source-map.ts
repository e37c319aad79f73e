import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { PolicyIssue } from './policy-issue.ts';

/** A parsed YAML file (policy, campaign, accounts) kept with what turns a node offset into line:column. */
export interface ParsedFile {
  path: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export interface Place {
  file: string;
  line: number;
  column: number;
}

type PathKey = string | number;

function child(node: unknown, key: PathKey): { value: Node | null; keyNode: Node | null } | undefined {
  if (isMap(node)) {
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key));
    if (!pair) return undefined;
    return { value: (pair.value as Node | null) ?? null, keyNode: pair.key as Node };
  }
  if (isSeq(node) && typeof key === 'number') {
    const item = node.items[key] as Node | undefined;
    return item === undefined ? undefined : { value: item, keyNode: null };
  }
  return undefined;
}

/**
 * How far `path` reaches into one file: the depth matched and the node to point at. A missing key
 * points at its parent; `atKey` points at the key itself (for an unknown or misnamed key).
 */
function walk(file: ParsedFile, path: PathKey[], atKey: boolean): { depth: number; node: Node | null } {
  let node: Node | null = file.doc.contents as Node | null;
  let pointAt: Node | null = node;
  for (let depth = 0; depth < path.length; depth++) {
    const next = child(node, path[depth]);
    if (!next) return { depth, node: pointAt };
    const last = depth === path.length - 1;
    pointAt = (last && atKey ? next.keyNode : null) ?? next.value ?? next.keyNode ?? pointAt;
    node = next.value;
  }
  return { depth: path.length, node: pointAt };
}

/**
 * Finds where a value of the merged policy came from. Maps merge and lists replace, so the value at
 * a path is the one in the last file that has that path; a missing value is blamed on the last
 * file that reaches deepest towards it.
 */
export function locate(files: ParsedFile[], path: PathKey[], atKey = false): Place | undefined {
  let best: { file: ParsedFile; depth: number; node: Node | null } | undefined;
  for (let i = files.length - 1; i >= 0; i--) {
    const found = walk(files[i], path, atKey);
    if (!best || found.depth > best.depth) best = { file: files[i], ...found };
    if (found.depth === path.length) break;
  }
  if (!best) return undefined;
  const offset = best.node?.range?.[0] ?? 0;
  const pos = best.file.lines.linePos(offset);
  return { file: best.file.path, line: pos.line, column: pos.col };
}

/**
 * A YAML text parsed with positions kept, and its syntax errors (rule `yaml`, duplicate keys
 * included) at their line and column. Shared by every file ops write: policies, campaigns, accounts.
 */
export function parseYamlText(text: string, path: string): { file: ParsedFile; issues: PolicyIssue[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const issues = doc.errors.map((e) => {
    const pos = lines.linePos(e.pos[0]);
    return {
      file: path,
      line: pos.line,
      column: pos.col,
      rule: 'yaml',
      message: e.message.split('\n')[0],
      path: '',
    };
  });
  return { file: { path, doc, lines }, issues };
}

/**
 * Schema errors at the place in the files the failing value came from (see locate); an unknown key
 * points at the key itself, a missing one at its parent, and reads "missing (expected …)".
 */
export function schemaIssues(error: z.ZodError, files: ParsedFile[]): PolicyIssue[] {
  return error.issues.map((issue) => {
    let path = issue.path as PathKey[];
    let atKey = issue.code === 'invalid_key';
    let message = issue.message.replace(/expected (\w+), received undefined/, 'missing (expected $1)');
    if (issue.code === 'unrecognized_keys') {
      path = [...path, issue.keys[0]];
      atKey = true;
      message = `unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    }
    const place = locate(files, path, atKey) ?? { file: files.at(-1)?.path ?? '', line: 0, column: 0 };
    return { ...place, rule: `schema/${issue.code}`, message, path: path.join('.') };
  });
}
