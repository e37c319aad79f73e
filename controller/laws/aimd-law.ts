import type { ControlLaw } from '../control-law.ts';
import { boundedHeadroom } from '../control-law.ts';

export interface AimdMemory {
  /** The AIMD window: 1 when nothing is congested, cut multiplicatively on congestion. */
  window: number;
}

/**
 * Additive increase, multiplicative decrease on expected wait. The factor is the window times a
 * queue term that fills an empty queue towards each tier's target wait (at most `increase` above
 * capacity) and drains a long one (at most `drainLimit` × `increase` below). Congestion — an admitted
 * tier past its syncWait while its backlog still grows, or a saturated dependency — cuts the
 * window by `decrease`; each quiet interval gives back `increase`. A queue never cuts below the
 * input's floor (the demand of the tiers above the one whose queue it is).
 */
export const aimdLaw: ControlLaw<AimdMemory> = {
  name: 'aimd',
  step(input, prev, policy) {
    const { increase, decrease } = policy.control.aimd;
    const { minFactor } = policy.control;
    const previous = prev?.window ?? 1;
    const queueCongested = input.congested && input.backlogSlope >= 0;
    const overloaded = input.pressure > 1;
    const least = overloaded ? minFactor : Math.max(minFactor, input.floor);
    const window = Math.max(
      least,
      queueCongested || overloaded ? previous * decrease : Math.min(1, previous + increase),
    );
    const queueTerm = 1 + increase * boundedHeadroom(input.headroom, policy);
    const reason = overloaded
      ? `dependency at ${input.pressure.toFixed(2)}× target: window ×${decrease}`
      : queueCongested
        ? `wait past syncWait and growing: window ×${decrease}`
        : `window ${window.toFixed(2)}, queue headroom ${input.headroom.toFixed(2)}`;
    return { factor: Math.max(least, window * queueTerm), memory: { window }, reason };
  },
};
