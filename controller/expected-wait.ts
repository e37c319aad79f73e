/**
 * Expected queue wait of a job admitted now, per tier of one lane, under strict priority: it waits
 * behind its own tier's backlog and every higher tier's, and higher tiers arriving meanwhile go
 * first, so the lane serves it only with what those leave: W = backlog(≥ t) / (capacity − arrivals(> t)).
 * Infinity when higher tiers take everything.
 *
 * An idle tier (nothing waiting, nothing offered) is the exception: workers pull tiers by weight
 * and never starve one fully (inference/scheduler.ts), so a lone job there waits at most for the
 * next slot to free, one job's service time. Calling its wait unbounded would say a tier nobody
 * uses is failing its maximum wait; the first jobs that arrive make it active again, and the next
 * interval computes its wait from the formula.
 */
export interface IdleTierInput {
  /** Offered cost units per second per tier; a tier is idle when this and its backlog are 0. */
  offered: Record<string, number>;
  /** One job's service time on a slot, ms; null when unknown (an idle tier then uses the formula). */
  serviceMs: number | null;
}

export function expectedWaits(
  tiersByPriority: string[],
  backlogCost: Record<string, number>,
  arrivalCost: Record<string, number>,
  capacity: number,
  idle?: IdleTierInput,
): Record<string, number> {
  const out: Record<string, number> = {};
  let ahead = 0;
  let higherArrivals = 0;
  for (const tier of tiersByPriority) {
    ahead += backlogCost[tier] ?? 0;
    const left = capacity - higherArrivals;
    const formula = left <= 0 ? Number.POSITIVE_INFINITY : (ahead / left) * 1000;
    out[tier] = isIdle(tier, backlogCost, idle) ? Math.min(formula, idle!.serviceMs!) : formula;
    higherArrivals += arrivalCost[tier] ?? 0;
  }
  return out;
}

function isIdle(tier: string, backlogCost: Record<string, number>, idle: IdleTierInput | undefined): boolean {
  if (!idle || idle.serviceMs === null) return false;
  return (backlogCost[tier] ?? 0) <= 0 && (idle.offered[tier] ?? 0) <= 0;
}

/**
 * How long one job holds a slot: the cost of a job over what one slot finishes per second.
 * Null when no live slot has a learned capacity.
 */
export function serviceTimeMs(jobCost: number, capacity: number, slots: number): number | null {
  if (capacity <= 0 || slots <= 0) return null;
  return ((jobCost * slots) / capacity) * 1000;
}
