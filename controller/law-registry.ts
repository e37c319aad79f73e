import { SpillwayError } from '../common/errors.ts';
import type { ControlLaw } from './control-law.ts';
import { aimdLaw } from './laws/aimd-law.ts';
import { gradientLaw } from './laws/gradient-law.ts';

/** The laws policy.control.law may name. A new law is one file in laws/ and one line here. */
const LAWS: Record<string, ControlLaw<unknown>> = {
  aimd: aimdLaw as ControlLaw<unknown>,
  gradient: gradientLaw as ControlLaw<unknown>,
};

export function lawFor(name: string): ControlLaw<unknown> {
  const law = LAWS[name];
  if (!law) throw new SpillwayError('unknown_control_law', `unknown control law ${name}`);
  return law;
}
