import { type Operation, parseSize } from '../contracts/index.ts';
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

/** Default costs by policy: a policy is replaced, never edited, when ops ship a new one. */
const defaults = new WeakMap<Policy, Partial<Record<Operation, number>>>();

/**
 * The cost of a request that says nothing but its operation: the default model's default size,
 * one image. Priced once per policy: the shed path asks for it on every refusal made before the
 * body is read, where parsing the size each time was a measurable part of a refusal.
 */
export function defaultRequestCost(policy: Policy, operation: Operation): number {
  let known = defaults.get(policy);
  if (!known) {
    known = {};
    defaults.set(policy, known);
  }
  known[operation] ??= priceDefault(policy, operation);
  return known[operation];
}

function priceDefault(policy: Policy, operation: Operation): number {
  const model = policy.models.available.find((m) => m.name === policy.models.default);
  const { width, height } = parseSize(model?.defaultSize ?? '1024x1024');
  return requestCost(policy, operation, 1, width, height);
}
