import type { ControllerHandover } from '../common/contracts/index.ts';
import type { ControllerMemory } from './control-step.ts';

/**
 * The shape of ControllerMemory a handover carries. Bump it whenever that shape changes: during a
 * rolling upgrade a successor then starts cold rather than misreading its predecessor's memory.
 */
export const HANDOVER_VERSION = 1;

export function toHandover(memory: ControllerMemory, epoch: number, now: number): ControllerHandover {
  return { v: HANDOVER_VERSION, epoch, at: now, memory: memory as unknown as Record<string, unknown> };
}

export type Resumption =
  | { resumed: true; memory: ControllerMemory; fromEpoch: number; ageMs: number }
  | { resumed: false; why: string };

/**
 * A new leader's memory: its predecessor's, when the handover is of this shape, from an earlier
 * epoch and no older than `maxAgeMs` (the admission state's TTL: memory older than a state
 * gateways would still trust says too little about now). Otherwise it starts cold.
 */
export function resumeFrom(
  handover: ControllerHandover | null,
  epoch: number,
  now: number,
  maxAgeMs: number,
): Resumption {
  if (!handover) return { resumed: false, why: 'no handover' };
  if (handover.v !== HANDOVER_VERSION)
    return { resumed: false, why: `handover v${handover.v}, this controller reads v${HANDOVER_VERSION}` };
  if (handover.epoch >= epoch)
    return { resumed: false, why: `handover from epoch ${handover.epoch}, not earlier` };
  const ageMs = now - handover.at;
  if (ageMs > maxAgeMs) return { resumed: false, why: `handover ${ageMs} ms old` };
  if (!looksLikeMemory(handover.memory)) return { resumed: false, why: 'handover memory malformed' };
  return {
    resumed: true,
    memory: handover.memory as unknown as ControllerMemory,
    fromEpoch: handover.epoch,
    ageMs: Math.max(0, ageMs),
  };
}

/** The fields controlStep reads at the top level; deeper, the version stands for the shape. */
function looksLikeMemory(m: Record<string, unknown>): boolean {
  const isRecord = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
  return (
    typeof m.at === 'number' &&
    typeof m.law === 'string' &&
    (m.capacity === null || isRecord(m.capacity)) &&
    (m.demand === null || isRecord(m.demand)) &&
    ['lawMemory', 'factors', 'backlogCost', 'brownout'].every((k) => isRecord(m[k]))
  );
}
