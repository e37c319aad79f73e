import type { Operation } from '../contracts/index.ts';
import type { Policy } from './schema.ts';

/** Pixels of the policy's unit image: a 1024×1024 request of cost 1 operation is one cost unit. */
const UNIT_PIXELS = 1024 * 1024;

/**
 * A request's cost in policy units: the operation's cost × images × area / 1024². Admission,
 * token buckets, the controller's capacity and the simulator all count in these units, so the
 * gateway and the simulator must price a request the same way: this one function.
 */
export function requestCost(
  policy: Policy,
  operation: Operation,
  n: number,
  width: number,
  height: number,
): number {
  return policy.operations[operation].cost * n * ((width * height) / UNIT_PIXELS);
}
