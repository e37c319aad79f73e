import type { ControlLaw } from '../control-law.ts';
import { MIN_FACTOR } from '../control-law.ts';

export interface GradientMemory {
  factor: number;
}

/** The most a queue correction moves admission away from capacity: the queue is a buffer, not a goal. */
const QUEUE_AUTHORITY = 0.2;

/**
 * Gradient law (Gradient2-like, PD on the queue): the target factor rises with queue headroom and
 * falls with the backlog's growth (its gradient), each weighted by `gain`; a saturated dependency
 * divides it by its saturation. The factor follows the target through an EWMA (`smoothing`), which
 * keeps admission steady while the measurement is noisy.
 */
export const gradientLaw: ControlLaw<GradientMemory> = {
  name: 'gradient',
  step(input, prev, policy) {
    const { gain, smoothing } = policy.control.gradient;
    const previous = prev?.factor ?? 1;
    const headroom = Math.max(-0.5, Math.min(1, input.headroom));
    const slope = Math.max(-1, Math.min(1, input.backlogSlope));
    let target = 1 + QUEUE_AUTHORITY * gain * headroom - QUEUE_AUTHORITY * gain * slope;
    if (input.congested) target = Math.min(target, 1 - QUEUE_AUTHORITY * gain);
    if (input.pressure > 1) target /= input.pressure;
    const factor = Math.max(MIN_FACTOR, previous + smoothing * (target - previous));
    const reason =
      input.pressure > 1
        ? `dependency at ${input.pressure.toFixed(2)}× target: target ÷${input.pressure.toFixed(2)}`
        : `target ${target.toFixed(3)} (headroom ${headroom.toFixed(2)}, slope ${slope.toFixed(3)})`;
    return { factor, memory: { factor }, reason };
  },
};
