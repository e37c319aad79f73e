/**
 * How a campaign's worker faults (kill-workers, add-workers) and their report notes read, the same
 * for the embedded stack's workers and the distributed stack's processes.
 */

/** Workers a fault's fraction (0–1, as campaigns validate it) of `of` names: at least one, as asked for. */
export function workersFor(fraction: number, of: number): number {
  return Math.max(1, Math.round(fraction * of));
}

/** A duration as fault notes print it. */
export function noteSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
