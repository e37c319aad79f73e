import type { Logger } from '../common/log.ts';
import type { PolicySource } from '../common/policy/policy-source.ts';
import { createPolicyWatcher } from '../common/policy/policy-watcher.ts';

/**
 * The policy a process runs on: the directory, hot-reloaded; an invalid edit is rejected and the
 * last good policy stays active. An invalid policy at start is fatal (file:line:col in the error).
 */
export async function openPolicySource(dir: string, log: Logger): Promise<PolicySource> {
  return createPolicyWatcher(dir, log);
}
