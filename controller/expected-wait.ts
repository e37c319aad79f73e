/**
 * Expected queue wait of a job admitted now, per tier of one lane, under strict priority: it waits
 * behind its own tier's backlog and every higher tier's, and higher tiers arriving meanwhile go
 * first, so the lane serves it only with what those leave: W = backlog(≥ t) / (capacity − arrivals(> t)).
 * Infinity when higher tiers take everything.
 */
export function expectedWaits(
  tiersByPriority: string[],
  backlogCost: Record<string, number>,
  arrivalCost: Record<string, number>,
  capacity: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  let ahead = 0;
  let higherArrivals = 0;
  for (const tier of tiersByPriority) {
    ahead += backlogCost[tier] ?? 0;
    const left = capacity - higherArrivals;
    if (left <= 0) out[tier] = Number.POSITIVE_INFINITY;
    else out[tier] = (ahead / left) * 1000;
    higherArrivals += arrivalCost[tier] ?? 0;
  }
  return out;
}
