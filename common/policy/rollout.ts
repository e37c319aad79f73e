import { createHash } from 'node:crypto';
import type { RolloutFeature, RolloutGate } from './schema.ts';

export const ROLLOUT_BUCKETS = 10_000;

/**
 * The account's rollout bucket, 0..9999. A cryptographic hash of the id alone: the same on every
 * gateway, after every restart and across Node versions, so raising a gate from 10% to 20% keeps
 * the first 10% in and an account never flickers in and out.
 */
export function rolloutBucket(accountId: string): number {
  return createHash('sha256').update(accountId).digest().readUInt32BE(0) % ROLLOUT_BUCKETS;
}

/**
 * Pure: may this account use `feature` in `tier` at `now` (ms)? No gate for the pair means open.
 * A gate is closed when disabled or before its startAt, then admits `percent` of accounts.
 */
export function rolloutAllows(
  gates: readonly RolloutGate[],
  feature: RolloutFeature,
  tier: string,
  accountId: string,
  now: number,
): boolean {
  const gate = gates.find((g) => g.feature === feature && g.tier === tier);
  if (!gate) return true;
  if (!gate.enabled) return false;
  if (gate.startAt !== undefined && now < Date.parse(gate.startAt)) return false;
  if (gate.percent >= 100) return true;
  if (gate.percent <= 0) return false;
  return rolloutBucket(accountId) < Math.round(gate.percent * (ROLLOUT_BUCKETS / 100));
}
