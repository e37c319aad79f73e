import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// promtool ships with Debian's `prometheus` package (scripts/setup.sh installs it).
function promtool(...args: string[]): string {
  return execFileSync('promtool', args, { cwd: 'dashboards/prometheus', encoding: 'utf8', timeout: 30_000 });
}

describe('promtool', () => {
  it('accepts the Prometheus configuration and its rule file', () => {
    expect(promtool('check', 'config', 'prometheus.yml')).toMatch(/SUCCESS: prometheus.yml is valid/);
  });

  it('accepts the alert rules', () => {
    const rules = readFileSync('dashboards/prometheus/alerts.yml', 'utf8').match(/^\s+- alert: /gm)?.length;
    expect(rules).toBeGreaterThan(0);
    expect(promtool('check', 'rules', 'alerts.yml')).toContain(`SUCCESS: ${rules} rules found`);
  });

  it('fires each alert on the series of its unit test and stays quiet before', () => {
    expect(promtool('test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/);
  });
});
