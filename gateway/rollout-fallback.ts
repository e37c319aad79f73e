import { createHash } from 'node:crypto';
import type { RolloutGate } from '../common/policy/schema.ts';

// PLACEHOLDER until common/policy/rollout.ts lands: same signature as its `rolloutAllows`.

/** Stable 0–99 bucket of an account for a feature, so a percentage rollout keeps its members. */
function bucketOf(accountId: string, feature: string): number {
  return createHash('sha256').update(`${feature}\0${accountId}`).digest().readUInt32BE(0) % 100;
}

export function rolloutAllows(
  gates: readonly RolloutGate[],
  feature: RolloutGate['feature'],
  tier: string,
  accountId: string,
  now: number,
): boolean {
  for (const g of gates) {
    if (g.feature !== feature || g.tier !== tier) continue;
    if (!g.enabled) return false;
    if (g.startAt && Date.parse(g.startAt) > now) return false;
    if (g.percent < 100 && bucketOf(accountId, feature) >= g.percent) return false;
  }
  return true;
}
