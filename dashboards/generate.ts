import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { generatedFiles } from './catalog.ts';

/**
 * Writes the Grafana dashboards and the Prometheus alert rules from their TypeScript sources.
 * `--check` writes nothing and exits 1 when a committed file is out of date.
 * Run from the repository root: `npx tsx dashboards/generate.ts [--check]`.
 */
async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const stale: string[] = [];
  for (const [path, content] of await generatedFiles()) {
    let current: string | null = null;
    try {
      current = readFileSync(path, 'utf8');
    } catch {}
    if (current === content) continue;
    stale.push(path);
    if (check) continue;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  const verb = check ? 'out of date' : 'written';
  process.stdout.write(
    stale.length ? `${verb}: ${stale.join(', ')}\n` : 'dashboards and alerts up to date\n',
  );
  return check && stale.length ? 1 : 0;
}

process.exitCode = await main();
