import { describeBrownoutStep, describeGate } from './policy-diff.ts';
import { fallbackRate, isPaidTier } from './paid-tiers.ts';
import { SpillwayError } from '../errors.ts';
import type { Policy } from './schema.ts';
import { formatDuration, formatRate } from './units.ts';

export type Operation = 'generate' | 'edit';

/** Pure: the limits, brownout steps and gates that apply to one lane × tier × operation, as text. */
export function explainPolicy(
  policy: Policy,
  lane: string,
  tier: string,
  op: Operation,
  version?: string,
): string[] {
  const t = policy.tiers[tier];
  const l = policy.lanes[lane];
  if (!t)
    throw new SpillwayError(
      'policy_unknown_tier',
      `no tier "${tier}" (${Object.keys(policy.tiers).join(', ')})`,
    );
  if (!l)
    throw new SpillwayError(
      'policy_unknown_lane',
      `no lane "${lane}" (${Object.keys(policy.lanes).join(', ')})`,
    );
  const cost = policy.operations[op].cost;
  const fallback = fallbackRate(policy, lane, tier);
  const lines = [
    `${op} in lane ${lane} for tier ${tier}${version ? ` (policy ${version})` : ''}`,
    `  tier: priority ${t.priority}, ${isPaidTier(policy.tiers, tier) ? 'paid' : 'not paid'}, weight ${t.weight}, min share ${t.minShare * 100}%`,
    `  lane: ${Math.round(l.share * 1000) / 10}% of capacity guaranteed`,
    `  cost: ${cost} unit${cost === 1 ? '' : 's'} per request`,
    `  per account: ${formatRate(t.rateLimit, 'min')} (burst ${t.burst}), ${t.maxConnections} open sync/stream requests`,
    `  waits: refused or expired after ${formatDuration(t.maxWait)} queued; sync requests held ${formatDuration(t.syncWait)}`,
    `  controller unreachable: static ${formatRate(fallback)} cost units for ${lane}/${tier} (${formatRate(fallback / cost)} ${op} requests)`,
  ];
  if (t.brownout.length === 0) lines.push('  brownout: none (never degraded)');
  else {
    lines.push('  brownout, applied in order before refusing:');
    t.brownout.forEach((s, i) => {
      const refused = op === 'edit' && s.edits === false ? ' — edits refused from here' : '';
      lines.push(`    ${i + 1}) ${describeBrownoutStep(s)}${refused}`);
    });
  }
  const gates = policy.rollout.filter(
    (g) => g.tier === tier && (g.feature === op || g.feature === 'stream' || g.feature === 'sync'),
  );
  if (gates.length === 0) lines.push(`  gates: none (${op}, stream and sync open to all ${tier} accounts)`);
  else for (const g of gates) lines.push(`  gate ${g.feature}: ${describeGate(g)}`);
  return lines;
}
