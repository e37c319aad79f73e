import { SpillwayError } from '../errors.ts';

/** One reason a policy was refused, pointing at the line ops must fix. */
export interface PolicyIssue {
  /** File path as read (relative or absolute), or the directory when no file applies. */
  file: string;
  /** 1-based; 0 when the rule concerns the directory rather than a place in a file. */
  line: number;
  column: number;
  /** Stable rule name: `yaml` (syntax), `schema/<zod code>`, or a semantic rule (see semantic-checks.ts). */
  rule: string;
  message: string;
  /** Path in the merged policy, e.g. tiers.free.maxWait. */
  path: string;
}

/** `file:line:col: rule: message`, the form editors and CI annotate. */
export function formatIssue(i: PolicyIssue): string {
  const where = i.line > 0 ? `${i.file}:${i.line}:${i.column}` : i.file;
  return `${where}: ${i.rule}: ${i.message}`;
}

/** A policy refused as a whole; carries every issue found, first one in the message. */
export class PolicyError extends SpillwayError {
  constructor(readonly issues: PolicyIssue[]) {
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super('policy_invalid', `${formatIssue(issues[0])}${more}`, { issues });
    this.name = 'PolicyError';
  }
}
