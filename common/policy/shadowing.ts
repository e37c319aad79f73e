import type { PolicyIssue } from './policy-issue.ts';
import { locate, type ParsedFile } from './source-map.ts';

/*
 * Files merge in name order and a later value replaces an earlier one, so a file can be undone
 * entirely by one that sorts after it: a deployment's own base file named `policy.yaml` beside
 * `50-launch.yaml` ('p' > '5') replaces every value the launch override sets, and the override
 * does nothing. The merged policy is valid, so no check refuses it; this finds such files and warns.
 */

type Path = (string | number)[];

/** A YAML map (what merges key by key), as opposed to a list or a scalar. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The paths a document sets: scalars, lists (they replace whole) and nulls; an empty map sets nothing. */
export function leafPaths(doc: unknown, prefix: Path = []): Path[] {
  if (!isPlainObject(doc)) return prefix.length === 0 && doc == null ? [] : [prefix];
  return Object.entries(doc).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
}

/** One path replaces another's value when either is a prefix of the other (or they are equal). */
function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (String(a[i]) !== String(b[i])) return false;
  return true;
}

/** A later file replacing at least this share of an earlier one's values, and setting more, looks like a base. */
const BASE_SHARE = 0.75;

function warning(file: ParsedFile, first: Path, message: string): PolicyIssue {
  const place = locate([file], first) ?? { file: file.path, line: 0, column: 0 };
  return { ...place, rule: 'shadowed-file', message, path: first.join('.') };
}

/**
 * A warning for each file that later files undo: every value it sets is replaced (it has no
 * effect), or most of them are by one later file that sets more than it does, the shape of a base
 * file that sorts after its overrides. Pure: parsed files and their documents, in merge order.
 */
export function shadowedFiles(files: ParsedFile[], docs: unknown[]): PolicyIssue[] {
  const leaves = docs.map((d) => leafPaths(d));
  const issues: PolicyIssue[] = [];
  for (let j = 0; j < files.length - 1; j++) {
    const own = leaves[j];
    if (own.length === 0) continue;
    const replacedBy = (i: number) => own.filter((p) => leaves[i].some((q) => overlaps(p, q))).length;
    const later = files.map((_, i) => i).filter((i) => i > j);
    const survivors = own.filter((p) => !later.some((i) => leaves[i].some((q) => overlaps(p, q))));
    if (survivors.length === 0) {
      const names = later.filter((i) => replacedBy(i) > 0).map((i) => files[i].path);
      issues.push(
        warning(
          files[j],
          own[0],
          `no effect: every value it sets is replaced by ${names.join(', ')}, which merge after it ` +
            '(files merge in name order, the last one wins); rename it to sort after them if it should win',
        ),
      );
      continue;
    }
    const base = later.find((i) => leaves[i].length > own.length && replacedBy(i) >= BASE_SHARE * own.length);
    if (base === undefined) continue;
    issues.push(
      warning(
        files[j],
        own[0],
        `${replacedBy(base)} of the ${own.length} values it sets are replaced by ${files[base].path}, which ` +
          `merges after it and sets more (${leaves[base].length}), like a base file; files merge in name ` +
          'order and the last one wins, so a base should sort first (e.g. 00-base.yaml)',
      ),
    );
  }
  return issues;
}
