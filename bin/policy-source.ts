import type { Logger } from '../common/log.ts';
import { loadPolicyDir } from '../common/policy/loader.ts';
import { type PolicySource, StaticPolicySource } from '../common/policy/policy-source.ts';

/** The policy a process runs on. TEMPORARY: static until the hot-reloading watcher lands. */
export async function openPolicySource(dir: string, _log: Logger): Promise<PolicySource> {
  return new StaticPolicySource(await loadPolicyDir(dir));
}
