import type { ControlLaw } from '../control-law.ts';
import { boundedHeadroom } from '../control-law.ts';

export interface GradientMemory {
  factor: number;
}

/**
 * Gradient law (Gradient2-like, PD on the queue): the target factor rises with queue headroom and
 * falls with the backlog's growth (its gradient), each weighted by `gain`; a saturated dependency
 * divides it by its saturation. The factor follows the target through an EWMA (`smoothing`), which
 * keeps admission steady while the measurement is noisy. A queue never cuts below the input's
 * floor (the demand of the tiers above the one whose queue it is).
 */
export const gradientLaw: ControlLaw<GradientMemory> = {
  name: 'gradient',
  step(input, prev, policy) {
    // queueAuthority: the most a queue correction moves admission away from capacity.
    const { gain, smoothing, queueAuthority } = policy.control.gradient;
    const previous = prev?.factor ?? 1;
    const headroom = boundedHeadroom(input.headroom, policy);
    const slope = Math.max(-1, Math.min(1, input.backlogSlope));
    let target = 1 + queueAuthority * gain * headroom - queueAuthority * gain * slope;
    if (input.congested) target = Math.min(target, 1 - queueAuthority * gain);
    if (input.pressure > 1) target /= input.pressure;
    const least =
      input.pressure > 1 ? policy.control.minFactor : Math.max(policy.control.minFactor, input.floor);
    const factor = Math.max(least, previous + smoothing * (target - previous));
    const reason =
      input.pressure > 1
        ? `dependency at ${input.pressure.toFixed(2)}× target: target ÷${input.pressure.toFixed(2)}`
        : `target ${target.toFixed(3)} (headroom ${headroom.toFixed(2)}, slope ${slope.toFixed(3)})`;
    return { factor, memory: { factor }, reason };
  },
};
