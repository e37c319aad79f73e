import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono } from 'hono';
import { formatIssue } from '../common/policy/policy-issue.ts';
import type { PolicySource } from '../common/policy/policy-source.ts';
import type { PolicyStatus } from '../common/policy/policy-watcher.ts';
import type { Controller } from './service.ts';
import { statusPage } from './status-page.ts';

const uplotDir = dirname(createRequire(import.meta.url).resolve('uplot'));
const ASSETS: Record<string, { file: string; type: string }> = {
  'uplot.js': { file: 'uPlot.iife.min.js', type: 'text/javascript; charset=utf-8' },
  'uplot.css': { file: 'uPlot.min.css', type: 'text/css; charset=utf-8' },
};

/** What the policy watcher may expose besides the PolicySource interface (read when present). */
interface PolicyIntrospection {
  status?: () => PolicyStatus;
  audit?: () => unknown;
}

/**
 * The policy as the page shows it: version, files, reload counts and the audit, plus `problems`,
 * one line each for ops to act on: the on-disk files refused (the active policy is the last good
 * one) and the active policy's warnings, as `file:line:col: rule: message`.
 */
export function policyReport(source: PolicySource) {
  const s = source as PolicySource & PolicyIntrospection;
  const active = source.current();
  const safe = <T>(f: (() => T) | undefined): T | null => {
    try {
      return typeof f === 'function' ? f.call(s) : null;
    } catch {
      return null;
    }
  };
  const status = safe(s.status);
  const problems: string[] = [];
  const refused = status && !status.onDiskValid ? status.lastRejection : null;
  if (refused) {
    const more = refused.issues.length > 1 ? ` (and ${refused.issues.length - 1} more)` : '';
    problems.push(
      `files on disk refused, still running ${active.version}: ${formatIssue(refused.issues[0])}${more}`,
    );
  }
  for (const w of active.warnings ?? []) problems.push(`warning: ${formatIssue(w)}`);
  return {
    version: active.version,
    loadedAt: active.loadedAt,
    files: active.files,
    problems,
    status,
    audit: safe(s.audit),
  };
}

/**
 * The live status page, as a Hono sub-app the composition root mounts (at /status): the page at
 * `/`, its JSON at `/api/state`, and uPlot served from node_modules (no CDN).
 */
export function statusApp(controller: Controller): Hono {
  const app = new Hono();
  app.get('/', (c) => {
    const base = c.req.path.replace(/\/$/, '');
    return c.html(statusPage(base));
  });
  app.get('/api/state', (c) => {
    c.header('cache-control', 'no-store');
    return c.json({ ...controller.snapshot(), policy: policyReport(controller.policySource()) });
  });
  app.get('/assets/:name', async (c) => {
    const asset = ASSETS[c.req.param('name')];
    if (!asset)
      return c.json({ error: { message: 'not found', type: 'not_found', param: null, code: null } }, 404);
    const body = await readFile(join(uplotDir, asset.file), 'utf8');
    c.header('content-type', asset.type);
    c.header('cache-control', 'public, max-age=3600');
    return c.body(body);
  });
  return app;
}
