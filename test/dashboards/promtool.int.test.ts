import { execFileSync } from 'node:child_process';
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
    expect(promtool('check', 'rules', 'alerts.yml')).toMatch(/SUCCESS: 7 rules found/);
  });

  it('fires each alert on the series of its unit test and stays quiet before', () => {
    expect(promtool('test', 'rules', 'alerts.test.yml')).toMatch(/SUCCESS/);
  });
});
