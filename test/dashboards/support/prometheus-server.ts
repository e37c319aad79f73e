import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../../../common/dev-services/free-port.ts';
import { ServiceProcess } from '../../../common/dev-services/service-process.ts';

export interface PrometheusServer {
  url: string;
  /** Instant query; throws with Prometheus' own message on a query error. */
  query(expr: string): Promise<PromSample[]>;
  rules(): Promise<{ name: string; health: string; lastError?: string }[]>;
  stop(): Promise<void>;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * A real Prometheus (Debian's /usr/bin/prometheus) on a free loopback port, with a throw-away
 * TSDB, scraping `target` every second and evaluating `ruleFiles` every second. `stop` kills it
 * and removes its directory.
 */
export async function startPrometheus(target: string, ruleFiles: string[]): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'spillway-prometheus-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = [
    'global: { scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 900ms }',
    `rule_files: [${ruleFiles.map((f) => JSON.stringify(resolve(f))).join(', ')}]`,
    'scrape_configs:',
    '  - job_name: spillway',
    `    static_configs: [{ targets: ['${target}'] }]`,
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const process = new ServiceProcess({
    name: 'prometheus',
    command: 'prometheus',
    args: [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    dir,
    ready: async () => (await fetch(`${url}/-/ready`)).ok,
  });
  await process.start(30_000);
  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${url}${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? res.status}`);
    return body.data;
  };
  return {
    url,
    async query(expr) {
      const data = await api<{ resultType: string; result: PromSample[] | [number, string] }>(
        `/api/v1/query?query=${encodeURIComponent(expr)}`,
      );
      // A scalar (e.g. `vector(0)` reduced) comes back as one value, not a list.
      if (data.resultType === 'scalar') return [{ metric: {}, value: data.result as [number, string] }];
      return data.result as PromSample[];
    },
    async rules() {
      const data = await api<{ groups: { rules: { name: string; health: string; lastError?: string }[] }[] }>(
        '/api/v1/rules',
      );
      return data.groups.flatMap((g) => g.rules);
    },
    async stop() {
      await process.kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
