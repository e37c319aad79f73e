import { readFileSync } from 'node:fs';
import { compilePolicy, type CompileResult } from '../../../common/policy/loader.ts';
import type { PolicyIssue } from '../../../common/policy/policy-issue.ts';

/** The committed default policy, used as the base file every override case merges onto. */
export const DEFAULT_TEXT = readFileSync(
  new URL('../../../policies/00-default.yaml', import.meta.url),
  'utf8',
);
export const LAUNCH_DAY_TEXT = readFileSync(
  new URL('../../../policies/examples/launch-day.yaml', import.meta.url),
  'utf8',
);

export function compileWithOverride(override: string): CompileResult {
  return compilePolicy([
    { path: '10-default.yaml', text: DEFAULT_TEXT },
    { path: '20-override.yaml', text: override },
  ]);
}

export function issuesOf(result: CompileResult): PolicyIssue[] {
  if (result.ok) throw new Error('expected the policy to be rejected, it was accepted');
  return result.issues;
}

/** 1-based line of the first line of `text` equal to `line` (trimmed), for locations in 00-default.yaml. */
export function lineOf(text: string, line: string): number {
  const i = text.split('\n').findIndex((l) => l.trim() === line);
  if (i < 0) throw new Error(`no line "${line}"`);
  return i + 1;
}
