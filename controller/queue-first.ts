/**
 * Queue before refusing (DESIGN principle 1): a tier whose queue is short may be admitted above the
 * lane's budget, so that its backlog fills towards the tier's target wait instead of its excess
 * being refused while the GPU could still serve it within that wait. The extra rate fills the
 * queue in about one target wait — budget × (target − wait) / target — and is nothing once the
 * wait reaches the target, where the budget alone holds the queue steady.
 */

/**
 * Target wait of a tier: a fraction of its syncWait (policy `control.targetWait`, a quarter by
 * default, so that losing half the capacity doubles the wait and still leaves synchronous
 * requests answered in time).
 */
export function targetWaitMs(syncWaitMs: number, fraction: number): number {
  return syncWaitMs * fraction;
}

/** Cost units per second a tier may be admitted above the budget; 0 at or past its target wait. */
export function queueFill(budget: number, waitMs: number, targetMs: number): number {
  if (budget <= 0 || targetMs <= 0 || !(waitMs < targetMs)) return 0;
  return (budget * (targetMs - waitMs)) / targetMs;
}
