import { join } from 'node:path';
import { loadPolicyDir } from '../common/policy/loader.ts';
import { alertRules, alertsYaml } from './alert-rules.ts';
import { controllerDashboard } from './boards/controller.ts';
import { gatewayDashboard } from './boards/gateway.ts';
import { inferenceDashboard } from './boards/inference.ts';
import { overviewDashboard } from './boards/overview.ts';
import { Dashboard } from './grafana-model.ts';
import { tierClasses } from './tier-classes.ts';

export const DASHBOARD_DIR = 'dashboards/grafana';
export const ALERTS_FILE = 'dashboards/prometheus/alerts.yml';

/** Every generated file, path → content, from the policy in `policyDir`. */
export async function generatedFiles(policyDir = 'policies'): Promise<Map<string, string>> {
  const tiers = tierClasses((await loadPolicyDir(policyDir)).policy);
  const boards = [overviewDashboard(tiers), gatewayDashboard(), controllerDashboard(), inferenceDashboard()];
  const files = new Map<string, string>();
  for (const board of boards) {
    // Parsing here means an invalid dashboard can never be written.
    const valid = Dashboard.parse(board);
    files.set(join(DASHBOARD_DIR, `${valid.uid}.json`), `${JSON.stringify(valid, null, 2)}\n`);
  }
  files.set(ALERTS_FILE, alertsYaml(alertRules(tiers)));
  return files;
}

export async function currentAlertRules(policyDir = 'policies') {
  return alertRules(tierClasses((await loadPolicyDir(policyDir)).policy));
}
