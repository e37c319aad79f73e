import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, call, KEYS, type SecureStack, startSecureStack } from './support/secure-stack.ts';

/**
 * Fuzzes the embedded stack from its own /openapi.json with schemathesis (scripts/schemathesis.sh
 * installs it from PyPI into .cache/venv on first use). Checks: no 5xx, every status, content type,
 * header and body as documented, and schema-invalid requests refused. Two passes: the API as a pro
 * account, and the admin API with the admin token. A fixed seed makes a failure reproducible.
 */

const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  'negative_data_rejection',
].join(',');
const SEED = '20250601';

let stack: SecureStack;
beforeAll(async () => {
  stack = await startSecureStack();
}, 60_000);
afterAll(async () => {
  await stack?.close();
});

function schemathesis(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['scripts/schemathesis.sh', ...args], {
      env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_TELEMETRY: 'false' },
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

async function serverErrors(): Promise<number> {
  const metrics = await call(stack, '/metrics');
  let n = 0;
  for (const m of metrics.text.matchAll(
    /^spillway_gateway_requests_total\{[^}]*status="5\d\d"[^}]*\} (\d+)/gm,
  )) {
    n += Number(m[1]);
  }
  return n;
}

function common(name: string): string[] {
  mkdirSync('test-results/schemathesis', { recursive: true });
  return [
    'run',
    `${stack.url}/openapi.json`,
    '--checks',
    CHECKS,
    '--phases',
    'examples,coverage,fuzzing',
    '--max-examples',
    '20',
    '--workers',
    '2',
    '--request-timeout',
    '30',
    '--seed',
    SEED,
    '--suppress-health-check',
    'all',
    '--report',
    'junit',
    '--report-junit-path',
    `test-results/schemathesis/${name}.xml`,
  ];
}

describe('schemathesis fuzzing of /openapi.json', () => {
  it('the API as a pro account: no 5xx, no response off the schema', async () => {
    const before = await serverErrors();
    const run = await schemathesis(
      [...common('api'), '-H', `Authorization: Bearer ${KEYS.alice}`, '--exclude-path-regex', '^/admin'],
      150_000,
    );
    const summary = run.out.split('\n').filter((l) => /passed|failed|generated|SUMMARY|ST\d{3}/.test(l));
    console.log(`schemathesis (api): ${summary.slice(-6).join(' | ')}`);
    expect(run.out).toMatch(/Test cases:\s+\d+ generated/);
    expect(run.code, run.out.slice(-4000)).toBe(0);
    expect(await serverErrors()).toBe(before);
  }, 180_000);

  it('the admin API with the admin token: no 5xx, no response off the schema', async () => {
    const before = await serverErrors();
    const run = await schemathesis(
      [...common('admin'), '-H', `Authorization: Bearer ${ADMIN_TOKEN}`, '--include-path-regex', '^/admin'],
      120_000,
    );
    expect(run.out).toMatch(/Test cases:\s+\d+ generated/);
    expect(run.code, run.out.slice(-4000)).toBe(0);
    expect(await serverErrors()).toBe(before);
  }, 150_000);
});
