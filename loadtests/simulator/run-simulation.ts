import { loadPolicyDir } from '../../common/policy/loader.ts';
import { formatIssue } from '../../common/policy/policy-issue.ts';
import type { ActivePolicy } from '../../common/policy/schema.ts';
import { type Campaign, type CampaignOverrides, loadCampaign } from '../campaign-schema.ts';
import type { ControllerMode } from './admission-source.ts';
import { writeSimReport } from './sim-report.ts';
import { type SimResult, simulateCampaign } from './simulate.ts';

/**
 * `spillway simulate` and `spillway policy simulate`: a campaign replayed at full scale against a
 * policy directory, with the real controller (and, with baselines, the no-shedding and static
 * modes), written as a JSON + HTML report.
 */
export interface SimulationOptions extends CampaignOverrides {
  campaign: string | Campaign;
  /** A policy directory, or an already loaded policy. */
  policy?: string | ActivePolicy;
  baselines?: boolean;
  outDir?: string;
}

export interface SimulationOutcome {
  results: SimResult[];
  files: { json: string; html: string } | null;
  /** The policy's warnings (file:line:col: rule: message): what-if on a policy ops would not mean. */
  warnings: string[];
}

export async function runSimulation(o: SimulationOptions): Promise<SimulationOutcome> {
  const campaign = typeof o.campaign === 'string' ? await loadCampaign(o.campaign, o) : o.campaign;
  const policy = typeof o.policy === 'object' ? o.policy : await loadPolicyDir(o.policy ?? 'policies');
  const modes: ControllerMode[] = o.baselines ? ['on', 'off', 'static'] : ['on'];
  const results = modes.map((controller) => simulateCampaign(campaign, policy, { controller }));
  const files = o.outDir ? await writeSimReport(results, o.outDir) : null;
  return { results, files, warnings: (policy.warnings ?? []).map(formatIssue) };
}

export function formatSimSummary(results: SimResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(
      `${r.campaign} · controller ${r.controller} · ${(r.simulatedMs / 3_600_000).toFixed(1)} h simulated in ${(r.wallMs / 1000).toFixed(1)} s (${(r.cpuMs / 1000).toFixed(1)} s CPU)`,
    );
    const pct = (x: number | null) => (x === null ? '  n/a ' : `${(x * 100).toFixed(2).padStart(6)} %`);
    for (const [tier, f] of Object.entries(r.tiers)) {
      lines.push(
        `  ${tier.padEnd(6)} availability ${pct(f.availability)}  wait p50 ${(f.waitP50Ms / 1000).toFixed(1)} s p99 ${(f.waitP99Ms / 1000).toFixed(1)} s  429s ${Math.round(f.shedAttempts)}  expired ${Math.round(f.expired)}`,
      );
    }
    lines.push(
      `  paid availability ${pct(r.paidAvailability)} · GPU use ${pct(r.gpuUtilisation)} (overloaded ${pct(r.gpuUtilisationOverloaded)}) · paid refused while free admitted ${r.paidRefusedWhileFreeAdmittedTicks} intervals`,
    );
  }
  return `${lines.join('\n')}\n`;
}
