/**
 * Which tier's waiting job a worker takes next: stride scheduling over tier shares.
 * A tier's share is its weight among the tiers waiting, raised to its policy minShare (the rest
 * re-divided by weight), so paid tiers get most pulls and free is slowed, never starved. A tier
 * with minShare 0 is served only when no higher-priority tier is waiting: it may starve, as the
 * policy allows. Pure: the state goes in and comes out.
 */
export interface TierWeight {
  tier: string;
  priority: number;
  weight: number;
  minShare: number;
}

export interface SchedulerState {
  /** Virtual time at which each tier is next due; the lowest is served. */
  pass: Record<string, number>;
  vtime: number;
}

export const initialSchedulerState = (): SchedulerState => ({ pass: {}, vtime: 0 });

export function tierShares(tiers: TierWeight[]): Record<string, number> {
  const shares: Record<string, number> = {};
  const fixed = new Set<string>();
  for (let round = 0; round <= tiers.length; round++) {
    const free = tiers.filter((t) => !fixed.has(t.tier));
    const reserved = tiers.filter((t) => fixed.has(t.tier)).reduce((s, t) => s + t.minShare, 0);
    const left = Math.max(0, 1 - reserved);
    const weights = free.reduce((s, t) => s + t.weight, 0);
    for (const t of free) shares[t.tier] = weights > 0 ? (left * t.weight) / weights : 0;
    for (const t of fixed) shares[t] = tiers.find((x) => x.tier === t)!.minShare;
    const short = free.filter((t) => shares[t.tier] < t.minShare);
    if (short.length === 0) break;
    for (const t of short) fixed.add(t.tier);
  }
  const total = Object.values(shares).reduce((s, v) => s + v, 0);
  if (total > 1) for (const k of Object.keys(shares)) shares[k] /= total;
  return shares;
}

export function chooseTier(
  tiers: TierWeight[],
  waiting: ReadonlySet<string>,
  state: SchedulerState,
): { tier: string | null; state: SchedulerState } {
  const present = tiers.filter((t) => waiting.has(t.tier));
  const candidates = present.filter((t) => t.minShare > 0 || !present.some((o) => o.priority > t.priority));
  if (candidates.length === 0) return { tier: null, state };
  const shares = tierShares(candidates);
  const pass = { ...state.pass };
  // A tier that was idle re-enters at the current virtual time: no burst of saved-up credit.
  for (const t of candidates) pass[t.tier] = Math.max(pass[t.tier] ?? state.vtime, state.vtime);
  const chosen = candidates.reduce((best, t) =>
    pass[t.tier] < pass[best.tier] || (pass[t.tier] === pass[best.tier] && t.priority > best.priority)
      ? t
      : best,
  );
  const vtime = pass[chosen.tier];
  pass[chosen.tier] += 1 / Math.max(shares[chosen.tier], 1e-6);
  return { tier: chosen.tier, state: { pass, vtime } };
}
