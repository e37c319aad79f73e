import { openAdmissionState } from '../../bin/open-admission.ts';
import type { AdmissionState } from '../../common/contracts/index.ts';
import { StaticPolicySource } from '../../common/policy/policy-source.ts';
import type { ActivePolicy } from '../../common/policy/schema.ts';
import { type ControlView, type ControllerMemory, controlStep } from '../../controller/control-step.ts';
import type { ControlInputs } from '../../controller/observation.ts';
import { staticAdmission } from '../../common/policy/static-admission.ts';

/**
 * Where the simulated gateways get their admission state each interval: the real controller's
 * pure control step (on), the no-shedding baseline (off) or the policy's static limits (static) —
 * the same three modes SPILLWAY_CONTROLLER selects in a real stack.
 */
export type ControllerMode = 'on' | 'off' | 'static';

export interface AdmissionSource {
  next(inputs: ControlInputs): { state: AdmissionState; view: ControlView | null };
}

export function admissionSource(mode: ControllerMode, active: ActivePolicy): AdmissionSource {
  let version = 0;
  if (mode === 'off') {
    const source = new StaticPolicySource(active);
    return { next: (i) => ({ state: openAdmissionState(source, ++version, i.now), view: null }) };
  }
  if (mode === 'static') return { next: (i) => ({ state: staticAdmission(active, i.now), view: null }) };
  let memory: ControllerMemory | null = null;
  return {
    next(inputs) {
      const out = controlStep(inputs, memory, active, { version: ++version, epoch: 1 });
      memory = out.memory;
      return { state: out.state, view: out.view };
    },
  };
}
