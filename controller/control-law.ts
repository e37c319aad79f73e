import type { Policy } from '../common/policy/schema.ts';

/**
 * What a control law sees of one lane in one interval. Every law answers the same question —
 * how much of the lane's estimated capacity to admit — as a factor: budget = factor × capacity.
 * Capacity is fed forward, so a lost worker cuts admission at once whatever the law; the law
 * only corrects around it for the queue and the dependencies.
 */
export interface LaneLawInput {
  lane: string;
  intervalMs: number;
  /** Estimated cost units per second the lane can serve. */
  capacity: number;
  /**
   * Queue headroom of the most constrained admitted tier: 1 with an empty queue, 0 at the tier's
   * target wait, negative past it (−1 at twice the target).
   */
  headroom: number;
  /** True when an admitted tier's expected wait is past its syncWait: the queue is congested. */
  congested: boolean;
  /** Backlog growth over the last interval, as a fraction of capacity (0 = flat, 1 = doubling rate). */
  backlogSlope: number;
  /** GPU slots busy / total, null when unknown. */
  utilisation: number | null;
  /** Largest saturation of the store, auth, blob store and GPU pass latency; > 1 means over target. */
  pressure: number;
  /**
   * Least factor a correction for the queue may cut to (0–1): what the tiers above the
   * highest-priority congested tier (past its syncWait) offer, over capacity. Below it the cut
   * would refuse those tiers, still answered within their own waits, to shorten a lower tier's
   * queue: paid for free, which priority forbids (after a fleet outage, free's old queue cut plus
   * to a tenth of its demand). A saturated dependency is not bound by it.
   */
  floor: number;
}

export interface LawOutput<M> {
  factor: number;
  memory: M;
  reason: string;
}

/** Pure: inputs and previous memory in, the factor out. No clock, no I/O, so a simulator can run it. */
export interface ControlLaw<M = unknown> {
  readonly name: string;
  step(input: LaneLawInput, prev: M | null, policy: Policy): LawOutput<M>;
}

/**
 * The queue headroom a law acts on: an empty queue counts fully (1), a long one only up to
 * `control.drainLimit` past its target, so a backlog cannot push admission far below capacity.
 */
export function boundedHeadroom(headroom: number, policy: Policy): number {
  return Math.max(-policy.control.drainLimit, Math.min(1, headroom));
}
